package dev.lazypull.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The uid, gid and supplementary gids the container process runs as, resolved like Docker and runc
 * resolve a {@code user} string: numbers are taken as they are; names are looked up in the image's
 * own {@code /etc/passwd} and {@code /etc/group}.
 */
public record ProcessUser(int uid, int gid, List<Integer> additionalGids, String home) {

  /**
   * Resolves {@code spec}; an empty spec is root. Root needs no lookup: its ids are 0 and its home
   * is /root, so the image's /etc/passwd is not read, which would cost a lazy image a span fetch
   * before the container starts.
   */
  public static ProcessUser resolve(String spec, ImageFiles files) throws IOException {
    if (spec.isEmpty()) {
      return new ProcessUser(0, 0, List.of(), "/root");
    }
    String userPart = spec;
    String groupPart = null;
    int colon = spec.indexOf(':');
    if (colon >= 0) {
      userPart = spec.substring(0, colon);
      groupPart = spec.substring(colon + 1);
    }
    if (userPart.isEmpty()) {
      userPart = "0";
    }
    List<String[]> passwd = table(files.read("/etc/passwd"));
    String[] account = find(passwd, userPart);
    int uid;
    int gid;
    String home = "/";
    if (account != null) {
      uid = parseId(account[2], spec);
      gid = parseId(account[3], spec);
      home = account.length > 5 && !account[5].isEmpty() ? account[5] : "/";
    } else if (isNumber(userPart)) {
      uid = parseId(userPart, spec);
      gid = 0;
    } else {
      throw new IllegalArgumentException(
          "user '" + userPart + "' is not in the image's /etc/passwd; give a numeric uid[:gid]");
    }
    List<String[]> groups = table(files.read("/etc/group"));
    if (groupPart != null && !groupPart.isEmpty()) {
      String[] group = find(groups, groupPart);
      if (group != null) {
        gid = parseId(group[2], spec);
      } else if (isNumber(groupPart)) {
        gid = parseId(groupPart, spec);
      } else {
        throw new IllegalArgumentException(
            "group '" + groupPart + "' is not in the image's /etc/group; give a numeric gid");
      }
    }
    String name = account != null ? account[0] : null;
    return new ProcessUser(uid, gid, supplementaryGroups(groups, name, gid), home);
  }

  private static List<Integer> supplementaryGroups(
      List<String[]> groups, @Nullable String name, int primaryGid) {
    List<Integer> gids = new ArrayList<>();
    if (name == null) {
      return gids;
    }
    for (String[] group : groups) {
      if (group.length > 3 && isNumber(group[2]) && List.of(group[3].split(",")).contains(name)) {
        int gid = Integer.parseInt(group[2]);
        if (gid != primaryGid && !gids.contains(gid)) {
          gids.add(gid);
        }
      }
    }
    return gids;
  }

  private static String @Nullable [] find(List<String[]> table, String key) {
    for (String[] row : table) {
      if (row.length > 2 && row[0].equals(key)) {
        return row;
      }
    }
    if (isNumber(key)) {
      for (String[] row : table) {
        if (row.length > 2 && row[2].equals(key)) {
          return row;
        }
      }
    }
    return null;
  }

  private static List<String[]> table(byte @Nullable [] content) {
    List<String[]> rows = new ArrayList<>();
    if (content == null) {
      return rows;
    }
    for (String line : new String(content, StandardCharsets.UTF_8).split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        rows.add(line.split(":", -1));
      }
    }
    return rows;
  }

  private static boolean isNumber(String text) {
    return !text.isEmpty() && text.chars().allMatch(Character::isDigit);
  }

  private static int parseId(String text, String spec) {
    try {
      long id = Long.parseLong(text);
      if (id < 0 || id > 0xffff_fffeL) {
        throw new NumberFormatException();
      }
      return (int) id;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "user '" + spec + "': id '" + text + "' is not a valid uid/gid", e);
    }
  }
}
