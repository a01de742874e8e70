package dev.lazypull.estargz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.oci.Digest;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.testing.TreeSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EstargzWriterTest {
  private static final long CHUNK = 64 << 10;

  @TempDir Path temp;

  /** A layer with every entry type, PAX xattrs, a long name and files around the chunk size. */
  static TestLayers.Tar everyEntryType() {
    var tar = TestLayers.tar();
    tar.dir("./").dir("etc/").file("etc/hostname", "box\n").file("etc/empty", new byte[0]);
    tar.fileEntry("etc/with-xattr", "x".getBytes(StandardCharsets.UTF_8))
        .xattr("user.note", "hello")
        .owner(1000, 1000, "user", "group")
        .mode(04755);
    tar.dir("usr/").dir("usr/lib/");
    tar.file("usr/lib/exact-chunk.bin", TestLayers.randomBytes(1, (int) CHUNK));
    tar.file("usr/lib/big.bin", TestLayers.randomBytes(2, (int) (3 * CHUNK + 123)));
    tar.file("usr/lib/text.txt", TestLayers.textBytes(3, 200_000));
    tar.file("usr/lib/" + "long-name-".repeat(15) + ".txt", "long\n");
    tar.symlink("usr/lib/link", "text.txt").hardlink("usr/lib/hard", "usr/lib/text.txt");
    tar.charDevice("dev-null", 1, 3).blockDevice("dev-loop", 7, 0).fifo("pipe");
    tar.dir("var/").whiteout("var/gone").opaqueWhiteout("var/");
    return tar.build();
  }

  @Test
  void write_everyEntryType_gnuTarExtractsTheSameTreePlusTocAndLandmark() throws Exception {
    Path source = temp.resolve("source.tar");
    Files.write(source, everyEntryType().bytes());
    Path output = temp.resolve("layer.esgz");

    EstargzWriter.Result result = convert(source, output, List.of());

    TreeSnapshot expected = TreeSnapshot.of(extract(source, "plain", "-xf"));
    Map<String, String> actual =
        new TreeMap<>(TreeSnapshot.of(extract(output, "estargz", "-xzf")).entries());
    assertThat(actual.remove("/" + Toc.TAR_NAME)).contains("mode=100444");
    assertThat(actual.remove("/" + EstargzIndex.NO_PREFETCH_LANDMARK)).contains("size=1");
    assertThat(actual).isEqualTo(expected.entries());

    byte[] blob = Files.readAllBytes(output);
    assertThat(result.size()).isEqualTo(blob.length);
    assertThat(result.digest()).isEqualTo(Digest.sha256(blob));
    byte[] tar = gunzip(blob);
    assertThat(result.diffId()).isEqualTo(Digest.sha256(tar));
    assertThat(result.uncompressedSize()).isEqualTo(tar.length);
  }

  @Test
  void write_everyEntryType_ourReaderReadsEveryFileAndChunk() throws Exception {
    TestLayers.Tar source = everyEntryType();
    Path sourceTar = temp.resolve("source.tar");
    Files.write(sourceTar, source.bytes());
    Path output = temp.resolve("layer.esgz");
    EstargzWriter.Result result = convert(sourceTar, output, List.of());
    byte[] blob = Files.readAllBytes(output);

    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(blob), blob.length, result.tocDigest(), false, "ours");

    Path plain = extract(sourceTar, "plain", "-xf");
    int files = 0;
    for (var entry : reader.index().entries().entrySet()) {
      String name = entry.getKey();
      if (entry.getValue().type().equals(TocEntry.REG) && !EstargzIndex.isFormatEntry(name)) {
        assertThat(reader.readFile(name))
            .as(name)
            .isEqualTo(Files.readAllBytes(plain.resolve(name)));
        files++;
      }
    }
    assertThat(files).isEqualTo(9);
    assertThat(reader.index().chunks("usr/lib/big.bin")).hasSize(4);
    assertThat(reader.index().chunks("usr/lib/exact-chunk.bin")).hasSize(1);
    TocEntry xattr = reader.index().entry("etc/with-xattr");
    assertThat(xattr.xattrs()).containsEntry("user.note", "hello".getBytes(StandardCharsets.UTF_8));
    assertThat(xattr.mode() & 07777).isEqualTo(04755);
    assertThat(xattr.userName()).isEqualTo("user");
    assertThat(reader.index().entry("dev-loop").devMajor()).isEqualTo(7);
    assertThat(reader.index().entry("usr/lib/hard").linkName()).isEqualTo("usr/lib/text.txt");
  }

  @Test
  void write_prefetchFiles_placedFirstAfterTheirDirectoriesThenLandmark() throws Exception {
    Path source = temp.resolve("source.tar");
    Files.write(source, everyEntryType().bytes());
    Path output = temp.resolve("layer.esgz");

    EstargzWriter.Result result =
        convert(source, output, List.of("/usr/lib/text.txt", "./etc/hostname", "not/here"));

    List<String> names = tarListing(output);
    assertThat(names.subList(0, 7))
        .containsExactly(
            "./",
            "usr/",
            "usr/lib/",
            "usr/lib/text.txt",
            "etc/",
            "etc/hostname",
            EstargzIndex.PREFETCH_LANDMARK);
    assertThat(names.getLast()).isEqualTo(Toc.TAR_NAME);
    assertThat(names).doesNotHaveDuplicates();
    byte[] blob = Files.readAllBytes(output);
    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(blob), blob.length, result.tocDigest(), false, "ours");
    assertThat(reader.index().chunks("usr/lib/text.txt").getLast().compressedEnd())
        .isLessThanOrEqualTo(reader.index().prefetchEnd());
  }

  @Test
  void write_prefetchedHardlinkAndRepeatedName_extractSameAsSource() throws Exception {
    var tar = TestLayers.tar();
    tar.dir("bin/").file("bin/tool", "old tool").file("bin/other", "other");
    tar.hardlink("bin/alias", "bin/tool").file("bin/tool2", "x").file("bin/other", "new other");
    Path source = temp.resolve("source.tar");
    Files.write(source, tar.build().bytes());
    Path output = temp.resolve("layer.esgz");

    convert(source, output, List.of("bin/alias", "bin/other"));

    List<String> names = tarListing(output);
    assertThat(names.subList(0, 5))
        .containsExactly(
            "bin/", "bin/tool", "bin/alias", "bin/other", EstargzIndex.PREFETCH_LANDMARK);
    assertThat(names).filteredOn("bin/other"::equals).hasSize(1);
    Map<String, String> actual =
        new TreeMap<>(TreeSnapshot.of(extract(output, "estargz", "-xzf")).entries());
    actual.remove("/" + Toc.TAR_NAME);
    actual.remove("/" + EstargzIndex.PREFETCH_LANDMARK);
    assertThat(actual).isEqualTo(TreeSnapshot.of(extract(source, "plain", "-xf")).entries());
    assertThat(Files.readString(temp.resolve("estargz/bin/other"))).isEqualTo("new other");
  }

  @Test
  void write_estargzSource_doesNotDuplicateTocOrLandmark() throws Exception {
    Path source = temp.resolve("source.tar");
    Files.write(source, everyEntryType().bytes());
    Path once = temp.resolve("once.esgz");
    convert(source, once, List.of("etc/hostname"));
    Path onceTar = temp.resolve("once.tar");
    Files.write(onceTar, gunzip(Files.readAllBytes(once)));
    Path twice = temp.resolve("twice.esgz");

    convert(onceTar, twice, List.of());

    List<String> names = tarListing(twice);
    assertThat(names).filteredOn(Toc.TAR_NAME::equals).hasSize(1);
    assertThat(names).doesNotContain(EstargzIndex.PREFETCH_LANDMARK);
    assertThat(names).filteredOn(EstargzIndex.NO_PREFETCH_LANDMARK::equals).hasSize(1);
    assertThat(names.size()).isEqualTo(tarListing(once).size());
  }

  @Test
  void write_referenceLayerSource_readsTheSameFiles() throws Exception {
    byte[] reference = ReferenceLayers.blob("small-text-prioritized");
    Path sourceTar = temp.resolve("source.tar");
    Files.write(sourceTar, gunzip(reference));
    Path output = temp.resolve("layer.esgz");
    var result = convert(sourceTar, output, List.of());
    byte[] blob = Files.readAllBytes(output);

    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(blob), blob.length, result.tocDigest(), false, "ours");

    for (var file : ReferenceLayers.expected("small-text-prioritized").get("files").properties()) {
      if (file.getValue().get("type").asText().equals("file")) {
        assertThat(Digest.sha256(reader.readFile(file.getKey())).hex())
            .isEqualTo(file.getValue().get("sha256").asText());
      }
    }
  }

  @Test
  void write_nameNotUtf8_refusedInOneLineNamingTheEntry() throws Exception {
    var tar = TestLayers.tar().dir("etc/");
    tar.add(new byte[] {'e', 't', 'c', '/', 'c', 'a', 'f', (byte) 0xe9}, '0')
        .data("x".getBytes(StandardCharsets.UTF_8));
    Path source = temp.resolve("latin1.tar");
    Files.write(source, tar.build().bytes());

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> convert(source, temp.resolve("out.esgz"), List.of()))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("hex:6574632f636166e9")
        .hasMessageContaining("not UTF-8")
        .hasMessageNotContaining("\n");
  }

  @Test
  void write_linkTargetNotUtf8_refused() throws Exception {
    var tar = TestLayers.tar();
    tar.add("link", '2').linkTo(new byte[] {'t', (byte) 0xff});
    Path source = temp.resolve("latin1-link.tar");
    Files.write(source, tar.build().bytes());

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> convert(source, temp.resolve("out.esgz"), List.of()))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("entry link has a link target that is not UTF-8");
  }

  private EstargzWriter.Result convert(Path source, Path output, List<String> prefetch)
      throws IOException {
    var options = new EstargzWriter.Options(CHUNK, prefetch, Deflater.BEST_SPEED);
    try (var out = Files.newOutputStream(output)) {
      return new EstargzWriter(options).write(source, out);
    }
  }

  private Path extract(Path archive, String dirName, String flags) throws Exception {
    Path dir = Files.createDirectories(temp.resolve(dirName));
    run(
        "tar",
        "--xattrs",
        "--xattrs-include=*",
        "--numeric-owner",
        "-p",
        flags,
        archive.toString(),
        "-C",
        dir.toString());
    return dir;
  }

  private List<String> tarListing(Path archive) throws Exception {
    return List.of(run("tar", "-tzf", archive.toString()).split("\n"));
  }

  private static String run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = new String(output, StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + text).isZero();
    return text;
  }

  private static byte[] gunzip(byte[] gzip) throws IOException {
    try (var in = new GZIPInputStream(new java.io.ByteArrayInputStream(gzip))) {
      var out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }
}
