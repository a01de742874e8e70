package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lazypull.testing.TestLayers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZtocCommandTest {

  @TempDir Path tmp;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private Path layer;
  private byte[] bigFile;

  @BeforeEach
  void writeLayer() throws Exception {
    bigFile = TestLayers.textBytes(5, 600_000);
    byte[] tar =
        TestLayers.tar()
            .dir("usr/")
            .file("usr/small", "hello\n")
            .file("usr/big", bigFile)
            .hardlink("usr/big-again", "usr/big")
            .symlink("usr/link", "big")
            .file("usr/tail", TestLayers.randomBytes(1, 300_000))
            .build()
            .bytes();
    layer = tmp.resolve("layer.tar.gz");
    Files.write(layer, TestLayers.gzip(tar));
  }

  private int run(String... args) {
    var cl = Main.newCommandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    return cl.execute(args);
  }

  @Test
  void create_info_getFile_workTogether() throws Exception {
    Path ztoc = tmp.resolve("layer.ztoc");
    Path extracted = tmp.resolve("big");

    assertThat(
            run("ztoc", "create", layer.toString(), "--span-size", "65536", "-o", ztoc.toString()))
        .as(err.toString())
        .isZero();
    assertThat(run("ztoc", "info", ztoc.toString(), "--json")).as(err.toString()).isZero();
    assertThat(
            run(
                "ztoc",
                "get-file",
                ztoc.toString(),
                layer.toString(),
                "/usr/big-again",
                "-o",
                extracted.toString()))
        .as(err.toString())
        .isZero();

    JsonNode info = new ObjectMapper().readTree(out.toString());
    assertThat(info.get("build_tool_identifier").asText()).startsWith("lazypull ");
    assertThat(info.get("span_size").asLong()).isEqualTo(65536);
    assertThat(info.get("spans").size()).isGreaterThan(5);
    assertThat(info.get("files").get(2).get("path").asText()).isEqualTo("/usr/big");
    assertThat(info.get("files").get(2).get("spans").size()).isGreaterThan(2);
    assertThat(Files.readAllBytes(extracted)).isEqualTo(bigFile);
    assertThat(err.toString()).contains("read ").contains("compressed bytes");
  }

  @Test
  void create_uncompressedTar_infoTextShowsSpansAndFiles() throws Exception {
    Path tarLayer = tmp.resolve("layer.tar");
    Files.write(
        tarLayer,
        TestLayers.tar()
            .dir("etc/")
            .file("etc/hosts", "127.0.0.1\n")
            .file("etc/big", TestLayers.randomBytes(3, 200_000))
            .build()
            .bytes());
    Path ztoc = tmp.resolve("tar.ztoc");
    Path extracted = tmp.resolve("hosts");

    assertThat(
            run(
                "ztoc",
                "create",
                tarLayer.toString(),
                "--span-size",
                "65536",
                "-o",
                ztoc.toString()))
        .as(err.toString())
        .isZero();
    assertThat(run("ztoc", "info", ztoc.toString())).as(err.toString()).isZero();
    assertThat(
            run(
                "ztoc",
                "get-file",
                ztoc.toString(),
                tarLayer.toString(),
                "etc/hosts",
                "-o",
                extracted.toString()))
        .as(err.toString())
        .isZero();

    assertThat(out.toString())
        .contains("compression:        uncompressed")
        .contains("spans:              4")
        .contains("/etc/hosts")
        .containsPattern("reg +644 +\\d+ +200000 0-3 +/etc/big");
    assertThat(Files.readString(extracted)).isEqualTo("127.0.0.1\n");
  }

  @Test
  void getFile_layerWithNonUtf8Names_findsByUtf8PathOrHexAndInfoJsonEscapes() throws Exception {
    byte[] latin1 = {'u', 's', 'r', '/', 'c', 'a', 'f', (byte) 0xe9};
    var tar = TestLayers.tar().dir("usr/").file("usr/café", "utf-8 named\n");
    tar.add(latin1, '0').data("latin-1 named\n".getBytes(StandardCharsets.UTF_8));
    tar.add("usr/odd-link".getBytes(StandardCharsets.UTF_8), '2').linkTo(latin1);
    Files.write(layer, TestLayers.gzip(tar.build().bytes()));
    Path ztoc = tmp.resolve("layer.ztoc");
    Path utf8Copy = tmp.resolve("utf8");
    Path latin1Copy = tmp.resolve("latin1");
    assertThat(run("ztoc", "create", layer.toString(), "-o", ztoc.toString())).isZero();

    int byText =
        run(
            "ztoc",
            "get-file",
            ztoc.toString(),
            layer.toString(),
            "/usr/café",
            "-o",
            "" + utf8Copy);
    int byHex =
        run(
            "ztoc",
            "get-file",
            ztoc.toString(),
            layer.toString(),
            "hex:7573722f636166e9",
            "-o",
            latin1Copy.toString());
    out.getBuffer().setLength(0);
    int info = run("ztoc", "info", ztoc.toString(), "--json");

    assertThat(new int[] {byText, byHex, info}).as(err.toString()).containsOnly(0);
    assertThat(Files.readString(utf8Copy)).isEqualTo("utf-8 named\n");
    assertThat(Files.readString(latin1Copy)).isEqualTo("latin-1 named\n");
    JsonNode files = new ObjectMapper().readTree(out.toString()).get("files");
    assertThat(files.get(1).get("path").asText()).isEqualTo("/usr/café");
    assertThat(files.get(2).get("name").asText()).isEqualTo("hex:7573722f636166e9");
    assertThat(files.get(2).get("path").asText()).isEqualTo("hex:2f7573722f636166e9");
    assertThat(files.get(3).get("linkname").asText()).isEqualTo("hex:7573722f636166e9");
  }

  @Test
  void getFile_symlinkOrMissing_failsWithOneLine() throws Exception {
    Path ztoc = tmp.resolve("layer.ztoc");
    run("ztoc", "create", layer.toString(), "-o", ztoc.toString());
    err.getBuffer().setLength(0);

    int code = run("ztoc", "get-file", ztoc.toString(), layer.toString(), "usr/link");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString().strip())
        .isEqualTo(
            "lazypull ztoc get-file usr/link: usr/link is a symlink to big, not a regular"
                + " file");
    err.getBuffer().setLength(0);
    assertThat(run("ztoc", "get-file", ztoc.toString(), layer.toString(), "nope")).isEqualTo(1);
    assertThat(err.toString()).contains("no file nope");
  }

  @Test
  void create_notALayer_failsWithOneLineAndNoOutputFile() throws Exception {
    Path notLayer = tmp.resolve("notes.txt");
    Files.writeString(notLayer, "just some text, not a layer at all");
    Path ztoc = tmp.resolve("out.ztoc");

    int code = run("ztoc", "create", notLayer.toString(), "-o", ztoc.toString());

    assertThat(code).isEqualTo(1);
    assertThat(err.toString().strip().lines()).hasSize(1);
    assertThat(err.toString()).contains("neither gzip nor tar");
    assertThat(ztoc).doesNotExist();
  }

  @Test
  void info_corruptZtoc_failsWithOneLine() throws Exception {
    Path bad = tmp.resolve("bad.ztoc");
    Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});

    assertThat(run("ztoc", "info", bad.toString())).isEqualTo(1);
    assertThat(err.toString().strip().lines()).hasSize(1);
    assertThat(err.toString()).contains("bad.ztoc");
  }

  @Test
  void info_nonexistentFileSaysNoSuchFile() {
    Path missing = tmp.resolve("nonexistent.ztoc");
    assertThat(run("ztoc", "info", missing.toString())).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "lazypull ztoc info "
                + missing
                + ": "
                + missing
                + ": no such file or directory; check the path and its permissions"
                + System.lineSeparator());
  }

  @Test
  void create_outputInAMissingDirectoryFailsBeforeIndexing() {
    Path output = tmp.resolve("nodir/x.ztoc");
    Path notALayer = tmp.resolve("not-a-layer");
    // The layer does not exist either: the output check must come first, or its error shows.
    assertThat(run("ztoc", "create", "-o", output.toString(), notALayer.toString())).isEqualTo(1);
    assertThat(err.toString())
        .contains("the directory of output " + output + " does not exist")
        .doesNotContain("no such file");
  }
}
