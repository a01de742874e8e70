package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.registry.RequestBody;
import dev.lazypull.soci.IndexVersion;
import dev.lazypull.soci.SociIndex;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.ztoc.Checkpoint;
import dev.lazypull.ztoc.CompressionInfo;
import dev.lazypull.ztoc.FileMetadata;
import dev.lazypull.ztoc.GzipCheckpoints;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import dev.lazypull.ztoc.ZtocCodec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and odd layers (issue 8, part 3), each generated in code, pushed to the real
 * docker-registry, converted with a SOCI index and mounted lazily through the kernel's FUSE. The
 * expected trees are those containerd's unpacker makes (archive/tar.go: names cleaned with {@code
 * filepath.Clean}, parents resolved with {@code fs.RootPath} so symlinks never leave the root, a
 * later entry replacing an earlier one unless both are directories). The table with the actual
 * behaviour is docs/hostile-layers.md.
 */
class HostileLayersIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  static final RegistryClient CLIENT = RegistryClient.create(RegistryOptions.defaults());

  @TempDir Path scratch;

  static final byte[] MANY_SPANS = TestLayers.randomBytes(81, 1 << 20);
  static final byte[] ON_BOUNDARY = TestLayers.randomBytes(82, 65536);
  static final byte[] MEMBERS_TEXT = TestLayers.textBytes(83, 300_000);
  static final String PAX_LONG = "pax/" + "p".repeat(200);
  static final String GNU_LONG = "gnu/" + "n".repeat(150) + "/file";
  static final String INJECTION = "one\n22 path=injected\ntwo";

  /** Names, links and content cases; gzip with every optional header field. */
  static byte[] namesAndLinksLayer() {
    var tar = TestLayers.tar();
    tar.dir("lower/").file("lower/file", "lower data");
    // containerd: Clean("../../dotdot") keeps the "..", RootPath stops them at the root.
    tar.file("../../dotdot", "dotdot");
    tar.file("/abs", "absolute"); // absolute names are relative to the root
    tar.file("./dot", "dot");
    tar.file("a/../b", "b"); // cleaned lexically: no directory a is made
    // Go's archive/tar keeps type '0' with a trailing slash a file; Clean drops the slash.
    tar.file("trail/", "trail");
    // Go turns type NUL (old V7 regular file) with a trailing slash into a directory.
    tar.add("v7dir/", '\0');
    tar.file("v7dir/inside", "in");
    // Names are bytes: served exactly as stored.
    tar.fileEntry("x", "latin1".getBytes(StandardCharsets.UTF_8)).name(bytes("caf\u00e9"));
    tar.add(bytes("\u00ff\u00fe/"), '5').mode(0755);
    tar.fileEntry("y", "ff".getBytes(StandardCharsets.UTF_8)).name(bytes("\u00ff\u00fe/x"));
    // GNU long name ('L') and long link ('K'): the writer uses them for >100 bytes.
    tar.file(GNU_LONG, "gnu long");
    tar.symlink("gnulink", "/" + "t".repeat(200));
    // PAX path and linkpath records override the header's names.
    tar.fileEntry("short-pax", "pax data".getBytes(StandardCharsets.UTF_8)).pax("path", PAX_LONG);
    tar.add("paxlink", '2').pax("linkpath", "l".repeat(150));
    // A PAX value holding what looks like a record: records are cut by their length prefix.
    tar.fileEntry("nl-xattr", "x".getBytes(StandardCharsets.UTF_8)).xattr("user.note", INJECTION);
    tar.fileEntry("placeholder", "newline".getBytes(StandardCharsets.UTF_8))
        .pax("path", "new\nline");
    // containerd logs and ignores PAX global headers ('g'); Go's reader does not merge them.
    tar.paxGlobal(Map.of("path", "hijacked", "uid", "4242", "mtime", "1"));
    tar.file("after-global", "g");
    // Symlinks are stored as they are; the kernel follows them (ELOOP for loops).
    tar.symlink("toroot", "/");
    tar.symlink("up", "../../..");
    tar.symlink("loop1", "loop2");
    tar.symlink("loop2", "loop1");
    tar.symlink("self", "self");
    // Entries below symlinks: containerd resolves the parent inside the root (RootPath).
    tar.symlink("esc", "../../..");
    tar.file("esc/escaped", "e"); // lands at /escaped
    tar.symlink("absesc", "/");
    tar.file("absesc/etc/abs-escaped", "ae"); // lands at /etc/abs-escaped
    tar.symlink("dangle", "/nowhere/deep");
    tar.file("dangle/f", "d"); // MkdirAll makes /nowhere/deep inside the root
    // link(2) does not follow a symlink: the hardlink shares the symlink itself.
    tar.hardlink("hl-sym", "toroot");
    // Duplicates: the later entry wins; a file over a directory removes the directory.
    tar.file("dup", "first").file("dup", "second");
    tar.dir("dupdir/").file("dupdir/child", "c").file("dupdir", "now a file");
    tar.file("dupfile", "f").dir("dupfile/");
    tar.file("empty0", new byte[0]);
    tar.file("many-spans", MANY_SPANS);
    return TestLayers.gzipWithEveryHeaderField(tar.build().bytes());
  }

  /**
   * An uncompressed tar layer, whose spans are exactly 64 KiB: "on-boundary" starts on the first
   * span boundary and ends on the second. It also hardlinks a file of the lower layer.
   */
  static byte[] boundaryLayer() {
    var tar = TestLayers.tar();
    tar.file("pad", new byte[65536 - 2 * 512]); // data at 512; next header at 65024
    tar.file("on-boundary", ON_BOUNDARY); // data at 65536, ends at 131072
    tar.file("after-boundary", "tail");
    tar.hardlink("hl-lower", "lower/file");
    tar.file("zero-at-end", new byte[0]);
    TestLayers.Tar built = tar.build();
    assertThat(built.dataOffset("on-boundary")).isEqualTo(65536);
    return built.bytes();
  }

  /** Concatenated gzip members, cut inside a file's data and on a header. */
  static byte[] membersLayer() {
    TestLayers.Tar tar =
        TestLayers.tar().file("m1", MEMBERS_TEXT).file("m2", "second member").build();
    long insideM1 = tar.dataOffset("m1") + 100_001;
    long atM2Header = tar.dataOffset("m2") - 512;
    return TestLayers.gzipMembers(tar.bytes(), 7, insideM1, atM2Header);
  }

  @Test
  void mount_hostileNamesLinksAndContent_resolveInsideTheRootLikeContainerd() throws Exception {
    ImageReference image =
        pushAndConvert("odd", List.of(namesAndLinksLayer(), boundaryLayer(), membersLayer()));
    withMount(
        image,
        null,
        root -> {
          assertThat(listing(root))
              .containsExactlyInAnyOrder(
                  "d lower",
                  "f lower/file",
                  "f dotdot",
                  "f abs",
                  "f dot",
                  "f b",
                  "f trail",
                  "d v7dir",
                  "f v7dir/inside",
                  "f caf\u00e9",
                  "d \u00ff\u00fe",
                  "f \u00ff\u00fe/x",
                  "d gnu",
                  "d gnu/" + "n".repeat(150),
                  "f " + GNU_LONG,
                  "l gnulink",
                  "d pax",
                  "f " + PAX_LONG,
                  "l paxlink",
                  "f nl-xattr",
                  "f new\nline",
                  "f after-global",
                  "l toroot",
                  "l up",
                  "l loop1",
                  "l loop2",
                  "l self",
                  "l esc",
                  "f escaped",
                  "l absesc",
                  "d etc",
                  "f etc/abs-escaped",
                  "l dangle",
                  "d nowhere",
                  "d nowhere/deep",
                  "f nowhere/deep/f",
                  "l hl-sym",
                  "f dup",
                  "f dupdir",
                  "d dupfile",
                  "f empty0",
                  "f many-spans",
                  "f pad",
                  "f on-boundary",
                  "f after-boundary",
                  "f hl-lower",
                  "f zero-at-end",
                  "f m1",
                  "f m2");
          assertThat(read(root, "dotdot")).isEqualTo("dotdot");
          assertThat(read(root, "abs")).isEqualTo("absolute");
          assertThat(read(root, "dot")).isEqualTo("dot");
          assertThat(read(root, "trail")).isEqualTo("trail");
          assertThat(read(root, "v7dir/inside")).isEqualTo("in");
          assertThat(shell("cat \"$1/$(printf 'caf\\351')\"", root)).isEqualTo("latin1");
          assertThat(shell("cat \"$1/$(printf '\\377\\376')/x\"", root)).isEqualTo("ff");
          assertThat(read(root, GNU_LONG)).isEqualTo("gnu long");
          assertThat(Files.readSymbolicLink(root.resolve("gnulink")).toString())
              .isEqualTo("/" + "t".repeat(200));
          assertThat(read(root, PAX_LONG)).isEqualTo("pax data");
          assertThat(Files.readSymbolicLink(root.resolve("paxlink")).toString())
              .isEqualTo("l".repeat(150));
          assertThat(shell("getfattr --only-values -n user.note \"$1/nl-xattr\"", root))
              .isEqualTo(INJECTION);
          assertThat(shell("cat \"$1/new\nline\"", root)).isEqualTo("newline");
          assertThat(shell("stat -c '%u %Y' \"$1/after-global\"", root).strip())
              .isEqualTo("0 1700000000");
          assertThat(Files.readSymbolicLink(root.resolve("toroot")).toString()).isEqualTo("/");
          assertThat(Files.readSymbolicLink(root.resolve("up")).toString()).isEqualTo("../../..");
          for (String loop : List.of("loop1", "loop2", "self")) {
            assertThat(shell("cat \"$1/" + loop + "\" 2>&1; echo \" rc=$?\"", root))
                .contains("Too many levels of symbolic links")
                .doesNotEndWith("rc=0");
          }
          assertThat(read(root, "escaped")).isEqualTo("e");
          assertThat(read(root, "etc/abs-escaped")).isEqualTo("ae");
          assertThat(read(root, "nowhere/deep/f")).isEqualTo("d");
          assertThat(Files.readSymbolicLink(root.resolve("hl-sym")).toString()).isEqualTo("/");
          assertThat(shell("stat -c '%h %i' \"$1/hl-sym\"", root))
              .isEqualTo(shell("stat -c '%h %i' \"$1/toroot\"", root))
              .startsWith("2 ");
          assertThat(read(root, "dup")).isEqualTo("second");
          assertThat(read(root, "dupdir")).isEqualTo("now a file");
          assertThat(Files.readAllBytes(root.resolve("empty0"))).isEmpty();
          assertThat(Files.readAllBytes(root.resolve("many-spans"))).isEqualTo(MANY_SPANS);
          assertThat(Files.readAllBytes(root.resolve("on-boundary"))).isEqualTo(ON_BOUNDARY);
          assertThat(Files.readAllBytes(root.resolve("pad"))).isEqualTo(new byte[65536 - 1024]);
          assertThat(read(root, "after-boundary")).isEqualTo("tail");
          assertThat(read(root, "hl-lower")).isEqualTo("lower data");
          assertThat(shell("stat -c '%h %i' \"$1/hl-lower\"", root))
              .isEqualTo(shell("stat -c '%h %i' \"$1/lower/file\"", root))
              .startsWith("2 ");
          assertThat(Files.readAllBytes(root.resolve("zero-at-end"))).isEmpty();
          assertThat(Files.readAllBytes(root.resolve("m1"))).isEqualTo(MEMBERS_TEXT);
          assertThat(read(root, "m2")).isEqualTo("second member");
        });
  }

  /**
   * GNU tar's own sparse archives: old GNU ('S', with extension blocks for more than 4 regions) and
   * PAX 0.1 and 1.0. Go's archive/tar expands them for containerd; lazypull leaves the layer
   * without a zTOC, fetches it whole and expands them at the same offsets.
   */
  @Test
  void mount_sparseFilesGnuAndPax_layerFetchedWholeWithTheRightBytes() throws Exception {
    Path src = Files.createDirectories(scratch.resolve("sparse-src"));
    // Seven data regions between holes, so the old GNU map needs an extension block.
    shell(
        "cd \"$1\" && truncate -s 5M holes && for i in 0 1 2 3 4 5 6; do"
            + " head -c 3000 /dev/urandom | dd of=holes bs=1 seek=$((i * 700000 + 4096))"
            + " conv=notrunc status=none; done && truncate -s 7M tail-hole",
        src);
    byte[] holes = Files.readAllBytes(src.resolve("holes"));
    List<byte[]> layers = new java.util.ArrayList<>();
    for (String format :
        List.of(
            "--format=gnu",
            "--format=posix --sparse-version=0.1",
            "--format=posix --sparse-version=1.0")) {
      Path tar = scratch.resolve("sparse.tar");
      shell("cd \"$1\" && tar --sparse " + format + " -cf ../sparse.tar holes tail-hole", src);
      layers.add(TestLayers.gzip(Files.readAllBytes(tar)));
      Files.delete(tar);
    }
    layers.add(TestLayers.gzip(TestLayers.tar().file("plain", "p").build().bytes()));
    ImageReference source = registry.reference("sparse:src");
    TestImage.push(CLIENT, source, layers);
    Result result =
        lazypull(
            "convert",
            "--span-size",
            "65536",
            "--min-layer-size",
            "0",
            source.toString(),
            registry.reference("sparse:soci").toString());
    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.err()).contains("sparse");
    for (var image : List.of(registry.reference("sparse:soci"), source)) {
      withMount(
          image,
          null,
          root -> {
            assertThat(Files.readAllBytes(root.resolve("holes"))).isEqualTo(holes);
            assertThat(Files.size(root.resolve("tail-hole"))).isEqualTo(7 << 20);
            assertThat(Files.readAllBytes(root.resolve("tail-hole"))).isEqualTo(new byte[7 << 20]);
            assertThat(read(root, "plain")).isEqualTo("p");
          });
      deleteRecursively(scratch.resolve("cache"));
    }
  }

  @Test
  void convert_pathComponentOver255Bytes_refusedNamingTheEntry() throws Exception {
    String name = "dir/" + "x".repeat(256);
    byte[] layer = TestLayers.gzip(TestLayers.tar().file(name, "too long").build().bytes());
    ImageReference source = registry.reference("longname:src");
    TestImage.push(CLIENT, source, List.of(layer));
    Result result =
        lazypull(
            "convert",
            "--min-layer-size",
            "0",
            source.toString(),
            registry.reference("longname:soci").toString());
    assertThat(result.code()).isEqualTo(1);
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.err()).contains(name).contains("256 bytes").contains("255");
  }

  @Test
  void convert_gzipTrailingGarbage_refusedLikeContainerd() throws Exception {
    // containerd reads the stream to its end after applying it ("read any trailing data"); Go's
    // gzip reader then fails with "invalid header" on bytes that are not another member.
    byte[] gzip = TestLayers.gzip(TestLayers.tar().file("f", "data").build().bytes());
    byte[] garbage = java.util.Arrays.copyOf(gzip, gzip.length + 100);
    java.util.Arrays.fill(garbage, gzip.length, garbage.length, (byte) 'G');
    ImageReference source = registry.reference("garbage:src");
    TestImage.push(CLIENT, source, List.of(garbage));
    Result result =
        lazypull(
            "convert",
            "--min-layer-size",
            "0",
            source.toString(),
            registry.reference("garbage:soci").toString());
    assertThat(result.code()).isEqualTo(1);
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.err())
        .contains(Digest.sha256(garbage).shortHex())
        .contains("compressed offset " + gzip.length);
    // Unconverted, the layer is fetched whole: the same rule applies.
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> withMount(source, null, root -> {}))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining(Digest.sha256(garbage).toString())
        .hasMessageContaining("compressed offset " + gzip.length);
  }

  @Test
  void mount_gzipZeroPaddingAfterTheLastMember_acceptedUnlikeGoGzip() throws Exception {
    // Some tools pad blobs to a block size with zeros; Go's gzip reader (containerd without
    // unpigz) rejects that, lazypull accepts it when indexing and when fetching whole.
    byte[] gzip = TestLayers.gzip(TestLayers.tar().file("f", "data").build().bytes());
    byte[] padded = java.util.Arrays.copyOf(gzip, gzip.length + 4096);
    ImageReference image = pushAndConvert("zeropad", List.of(padded));
    for (var reference : List.of(image, registry.reference("zeropad:src"))) {
      withMount(reference, null, root -> assertThat(read(root, "f")).isEqualTo("data"));
      deleteRecursively(scratch.resolve("cache"));
    }
  }

  @Test
  void mount_hardlinkToMissingTarget_refusedNamingTheEntry() throws Exception {
    // containerd's os.Link fails with ENOENT and the unpack stops; lazypull refuses the mount.
    byte[] layer =
        TestLayers.gzip(
            TestLayers.tar()
                .file("f", "x")
                .hardlink("dangling-hardlink", "missing")
                .build()
                .bytes());
    ImageReference image = pushAndConvert("hlmissing", List.of(layer));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> withMount(image, null, root -> {}))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("dangling-hardlink")
        .hasMessageContaining("'missing' does not exist");
  }

  /**
   * zTOCs that lie, reached through a SOCI index given with --index: every read returns the right
   * bytes or fails (EIO); none returns another file's or made-up bytes.
   */
  @Test
  void read_ztocsThatLie_neverServeAWrongByte() throws Exception {
    Map<String, String> outcomes = outcomesOfLies();
    assertThat(outcomes.get("checkpoint uncompressed offset moved")).contains("EIO");
    assertThat(outcomes.get("entries overlapping")).contains("c=EIO");
    assertThat(outcomes.get("another image's zTOC")).contains("refused").contains("rebuild");
    assertThat(outcomes.get("index for another image's layer"))
        .contains("refused")
        .contains("not a layer of");
  }

  // Swapped checkpoint windows: no span digest covers a window, so wrong bytes can be served
  // until the background fetch has the whole layer and checks its diff id, which then marks the
  // layer bad (IndexedLayerTest.fetchAllInBackground_checkpointWindowsSwapped_...). SOCI has the
  // same gap; see hostile-layers.md.

  /** Mounts the image with each lying zTOC and reads every file; fails on any wrong byte. */
  Map<String, String> outcomesOfLies() throws Exception {
    Map<String, byte[]> files = new java.util.LinkedHashMap<>();
    files.put("a", TestLayers.textBytes(91, 200_000));
    files.put("b", TestLayers.randomBytes(92, 150_000));
    files.put("c", "small file c".getBytes(StandardCharsets.UTF_8));
    files.put("d", TestLayers.textBytes(93, 300_000));
    var builder = TestLayers.tar();
    files.forEach(builder::file);
    byte[] gzip = TestLayers.gzip(builder.build().bytes());
    byte[] otherGzip =
        TestLayers.gzip(
            TestLayers.tar().file("a", TestLayers.textBytes(94, 400_000)).build().bytes());
    ImageReference image = registry.reference("lies:src");
    TestImage.push(CLIENT, image, List.of(gzip));
    var layer =
        dev.lazypull.oci.Descriptor.of(
            dev.lazypull.oci.MediaTypes.OCI_LAYER_GZIP, Digest.sha256(gzip), gzip.length);
    Ztoc good = new ZtocBuilder(65536, "test").build(new java.io.ByteArrayInputStream(gzip), "l");
    var checkpoints = (GzipCheckpoints) good.compressionInfo().layout();
    assertThat(checkpoints.spanCount()).isGreaterThan(4);

    Map<String, Ztoc> lies = new java.util.LinkedHashMap<>();
    var shifted = new java.util.ArrayList<>(checkpoints.checkpoints());
    Checkpoint third = shifted.get(3);
    shifted.set(
        3,
        new Checkpoint(third.compressedOffset(), third.uncompressedOffset() + 700, third.bits()));
    lies.put(
        "checkpoint uncompressed offset moved",
        withCheckpoints(good, checkpoints, shifted, windows(checkpoints)));
    var overlapping = new java.util.ArrayList<>(good.files());
    FileMetadata a = good.find("a").orElseThrow();
    FileMetadata c = good.find("c").orElseThrow();
    overlapping.set(overlapping.indexOf(c), withOffset(c, a.uncompressedOffset() + 4096));
    lies.put("entries overlapping", withFiles(good, overlapping));
    Ztoc otherZtoc =
        new ZtocBuilder(65536, "test").build(new java.io.ByteArrayInputStream(otherGzip), "o");
    lies.put("another image's zTOC", otherZtoc);
    // The index lists only a zTOC for another image's layer.
    lies.put("index for another image's layer", otherZtoc);
    var otherLayer =
        dev.lazypull.oci.Descriptor.of(
            dev.lazypull.oci.MediaTypes.OCI_LAYER_GZIP, Digest.sha256(otherGzip), otherGzip.length);

    Map<String, String> outcomes = new java.util.LinkedHashMap<>();
    for (var lie : lies.entrySet()) {
      var indexed = lie.getKey().startsWith("index for") ? otherLayer : layer;
      Digest index = pushIndex(image, indexed, ZtocCodec.encode(lie.getValue()));
      var results = new java.util.TreeMap<String, String>();
      try {
        withMount(
            image,
            index,
            root -> {
              for (var file : files.entrySet()) {
                try {
                  byte[] actual = Files.readAllBytes(root.resolve(file.getKey()));
                  boolean right = java.util.Arrays.equals(actual, file.getValue());
                  results.put(file.getKey(), right ? "right" : "WRONG BYTES");
                } catch (java.io.IOException e) {
                  results.put(file.getKey(), "EIO");
                }
              }
            });
      } catch (java.io.IOException e) {
        results.put("mount", "refused: " + e.getMessage());
      }
      deleteRecursively(scratch.resolve("cache"));
      outcomes.put(lie.getKey(), results.toString());
    }
    System.out.println("zTOC lies: " + outcomes);
    assertThat(outcomes.values()).noneMatch(o -> o.contains("WRONG"));
    return outcomes;
  }

  static List<byte[]> windows(GzipCheckpoints checkpoints) {
    var windows = new java.util.ArrayList<byte[]>();
    for (int i = 0; i < checkpoints.checkpoints().size(); i++) {
      windows.add(checkpoints.window(i));
    }
    return windows;
  }

  static Ztoc withCheckpoints(
      Ztoc ztoc, GzipCheckpoints old, List<Checkpoint> checkpoints, List<byte[]> windows) {
    var info = ztoc.compressionInfo();
    return new Ztoc(
        ztoc.version(),
        ztoc.buildToolIdentifier(),
        ztoc.compressedArchiveSize(),
        ztoc.uncompressedArchiveSize(),
        ztoc.files(),
        new CompressionInfo(
            info.algorithm(),
            info.spanDigests(),
            new GzipCheckpoints(old.spanSize(), checkpoints, windows)));
  }

  static Ztoc withFiles(Ztoc ztoc, List<FileMetadata> files) {
    return new Ztoc(
        ztoc.version(),
        ztoc.buildToolIdentifier(),
        ztoc.compressedArchiveSize(),
        ztoc.uncompressedArchiveSize(),
        files,
        ztoc.compressionInfo());
  }

  static FileMetadata withOffset(FileMetadata f, long offset) {
    return new FileMetadata(
        f.nameBytes(),
        f.type(),
        offset,
        f.uncompressedSize(),
        f.linkNameBytes(),
        f.mode(),
        f.uid(),
        f.gid(),
        f.uname(),
        f.gname(),
        f.modTime(),
        f.devMajor(),
        f.devMinor(),
        f.xattrs());
  }

  /** Pushes a v2 SOCI index naming {@code ztocBytes} as the zTOC of {@code layer}. */
  static Digest pushIndex(ImageReference image, dev.lazypull.oci.Descriptor layer, byte[] ztocBytes)
      throws Exception {
    var ztoc = SociIndex.ztocDescriptor(layer, ztocBytes, 65536);
    CLIENT.pushBlob(image, ztoc, RequestBody.of(ztocBytes), null);
    CLIENT.pushBlob(
        image,
        SociIndex.emptyConfig(IndexVersion.V2),
        RequestBody.of(SociIndex.emptyConfigBytes()),
        null);
    byte[] index = OciJson.write(SociIndex.document(IndexVersion.V2, List.of(ztoc), null, "test"));
    Digest digest = Digest.sha256(index);
    CLIENT.pushManifest(image.withDigest(digest), dev.lazypull.oci.MediaTypes.OCI_MANIFEST, index);
    return digest;
  }

  /**
   * 200,000 files in one layer (20,000 in the normal run; lazypull.long=true for the full size)
   * mount within 300 MB: the peak RSS (VmHWM) of a `lazypull mount` in its own JVM, as a user
   * starts it.
   */
  @Test
  void mount_manyFilesInOneLayer_peakRssUnder300Mb() throws Exception {
    int count = Boolean.getBoolean("lazypull.long") ? 200_000 : 20_000;
    var tar = TestLayers.tar();
    for (int i = 0; i < count; i++) {
      tar.file("d" + (i / 1000) + "/file-" + i, i % 100 == 0 ? "content " + i : "");
    }
    ImageReference image = pushAndConvert("many", List.of(TestLayers.gzip(tar.build().bytes())));
    Path mountPoint = Files.createDirectories(scratch.resolve("many-mnt"));
    Path log = scratch.resolve("mount.log");
    // Through the launcher, as a user starts it: the JVM options it sets are part of the figure.
    List<String> command =
        List.of(
            Path.of("..", "bin", "lazypull").toAbsolutePath().toString(),
            "mount",
            "--no-background-fetch",
            "--cache-dir",
            scratch.resolve("many-cache").toString(),
            image.toString(),
            mountPoint.toString());
    Process mount =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
      while (!isMounted(mountPoint)) {
        assertThat(mount.isAlive()).as("mount exited: %s", Files.readString(log)).isTrue();
        assertThat(System.nanoTime()).as("mounted in time").isLessThan(deadline);
        Thread.sleep(200);
      }
      assertThat(read(mountPoint, "d0/file-100")).isEqualTo("content 100");
      assertThat(read(mountPoint, "d" + ((count - 100) / 1000) + "/file-" + (count - 100)))
          .isEqualTo("content " + (count - 100));
      long peakKb = vmHwmKb(mount.pid());
      System.out.println(
          "mount of " + count + " files in one layer: peak RSS " + peakKb / 1024 + " MB");
      assertThat(peakKb).as("peak RSS in kB").isLessThan(300 * 1024);
    } finally {
      runForBytes("fusermount3", "-u", mountPoint.toString());
      if (!mount.waitFor(30, TimeUnit.SECONDS)) {
        mount.destroyForcibly();
      }
    }
  }

  static boolean isMounted(Path mountPoint) throws Exception {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.contains(" " + mountPoint + " "));
  }

  static long vmHwmKb(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmHWM for process " + pid);
  }

  // ---------------------------------------------------------------------------------------------

  /** Pushes {@code repo:src}, converts it with 64 KiB spans to {@code repo:soci}. */
  ImageReference pushAndConvert(String repo, List<byte[]> layers) throws Exception {
    ImageReference source = registry.reference(repo + ":src");
    TestImage.push(CLIENT, source, layers);
    Result result =
        lazypull(
            "convert",
            "--span-size",
            "65536",
            "--min-layer-size",
            "0",
            source.toString(),
            registry.reference(repo + ":soci").toString());
    assertThat(result.code()).as(result.err()).isZero();
    return registry.reference(repo + ":soci");
  }

  record Result(int code, String err) {}

  static Result lazypull(String... args) {
    var err = new StringWriter();
    var commandLine = Main.newCommandLine();
    commandLine.setErr(new PrintWriter(err));
    commandLine.setOut(new PrintWriter(new StringWriter()));
    int code = commandLine.execute(args);
    return new Result(code, err.toString().strip());
  }

  interface MountedCheck {
    void check(Path root) throws Exception;
  }

  void withMount(ImageReference image, @Nullable Digest index, MountedCheck check)
      throws Exception {
    try (LazyImage lazy =
        LazyImage.open(
            CLIENT,
            image,
            new LazyImage.Options(
                scratch.resolve("cache"), 1L << 30, Duration.ofSeconds(20), index, false))) {
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(lazy.tree(), lazy.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        check.check(mountPoint);
      }
    }
  }

  static void deleteRecursively(Path dir) throws Exception {
    runForBytes("rm", "-rf", dir.toString());
  }

  static byte[] bytes(String latin1) {
    return latin1.getBytes(StandardCharsets.ISO_8859_1);
  }

  static String read(Path root, String path) throws Exception {
    return Files.readString(root.resolve(path));
  }

  /** Every entry below root as "TYPE PATH" with the path's raw bytes as ISO-8859-1 chars. */
  static TreeSet<String> listing(Path root) throws Exception {
    byte[] out = runForBytes("find", root.toString(), "-mindepth", "1", "-printf", "%y %P\\0");
    var entries = new TreeSet<String>();
    for (String entry : new String(out, StandardCharsets.ISO_8859_1).split("\0")) {
      if (!entry.isEmpty()) {
        entries.add(entry);
      }
    }
    return entries;
  }

  /** Runs a bash script with $1 = root; returns its output (bytes as ISO-8859-1 chars). */
  static String shell(String script, Path root) throws Exception {
    return new String(
        runForBytes("bash", "-c", script, "bash", root.toString()), StandardCharsets.ISO_8859_1);
  }

  static byte[] runForBytes(String... command) throws Exception {
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
