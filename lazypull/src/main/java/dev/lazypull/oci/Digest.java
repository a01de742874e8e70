package dev.lazypull.oci;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content digest such as {@code sha256:<64 hex>}. Only sha256 is accepted. */
public record Digest(String algorithm, String hex) {

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  public Digest {
    if (!algorithm.equals("sha256") || !SHA256_HEX.matcher(hex).matches()) {
      throw new IllegalArgumentException(
          "not a sha256 digest: " + algorithm + ":" + hex + " (expected sha256:<64 hex digits>)");
    }
  }

  /** Parses {@code sha256:<hex>}; throws IllegalArgumentException naming the bad text. */
  @JsonCreator
  public static Digest parse(String text) {
    int colon = text.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException(
          "not a digest: '" + text + "' (expected sha256:<64 hex digits>)");
    }
    return new Digest(text.substring(0, colon), text.substring(colon + 1));
  }

  /** The sha256 digest of the given bytes. */
  public static Digest sha256(byte[] bytes) {
    return fromSha256(newSha256().digest(bytes));
  }

  /** Wraps a finished sha256 hash. */
  public static Digest fromSha256(byte[] hash) {
    return new Digest("sha256", HexFormat.of().formatHex(hash));
  }

  /** A new sha256 hasher; sha256 is always present in the JDK. */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** The first 12 hex digits, for log lines and tables. */
  public String shortHex() {
    return hex.substring(0, 12);
  }

  @JsonValue
  @Override
  public String toString() {
    return algorithm + ":" + hex;
  }
}
