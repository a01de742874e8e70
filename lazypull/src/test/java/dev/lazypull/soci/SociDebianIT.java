package dev.lazypull.soci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.cli.Version;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Platform;
import dev.lazypull.registry.CredentialSource;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.CountingProxy;
import dev.lazypull.testing.DebianImages;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.ztoc.FileMetadata;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import dev.lazypull.ztoc.ZtocCodec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** convert and ztoc get-file --image on the real Debian minbase image (built by debootstrap). */
class SociDebianIT {

  @RegisterExtension static final LocalRegistry REGISTRY = LocalRegistry.create();

  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @TempDir Path tmp;

  int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    CommandLine cl = Main.newCommandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    return cl.execute(args);
  }

  @Test
  void convertMinbase_ztocMatchesLocalBuild_getFileReadsOnlyItsSpans() throws Exception {
    Path layout = DebianImages.minbase();
    String src = REGISTRY.hostPort() + "/debian/minbase:latest";
    String dst = REGISTRY.hostPort() + "/debian/minbase:soci";
    DebianImages.pushToRegistry(layout, DebianImages.TAG, src);

    assertThat(run("convert", src, dst)).as(err.toString()).isZero();

    var client =
        RegistryClient.create(
            RegistryOptions.defaults()
                .withCredentials(CredentialSource.NONE)
                .withPlatform(Platform.parse("linux/amd64"))
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(60)));
    var finder = new SociIndexFinder(client);
    FoundIndex found = finder.find(REGISTRY.reference("debian/minbase:soci"), null, false);
    assertThat(found.layers()).hasSize(1);
    LayerZtoc layerZtoc = found.layers().getFirst();
    Descriptor layer = layerZtoc.layer();
    Path layerFile = layout.resolve("blobs/sha256/" + layer.digest().hex());
    byte[] local =
        ZtocCodec.encode(
            new ZtocBuilder(ZtocBuilder.DEFAULT_SPAN_SIZE, "lazypull " + Version.current())
                .build(layerFile));
    assertThat(client.fetchBlobBytes(found.image().requested(), layerZtoc.ztoc())).isEqualTo(local);
    Ztoc ztoc = finder.fetchZtoc(found, layerZtoc);

    // /etc/os-release and /bin/sh are symlinks in bookworm: read their targets.
    FileMetadata osRelease = target(ztoc, "etc/os-release");
    FileMetadata shell = target(ztoc, "bin/sh");
    try (CountingProxy proxy = CountingProxy.to(REGISTRY.port())) {
      String image = proxy.hostPort() + "/debian/minbase:soci";
      for (FileMetadata file : List.of(osRelease, shell)) {
        Path got = tmp.resolve(file.path().replace('/', '_'));
        proxy.reset();

        int code =
            run(
                "ztoc",
                "get-file",
                "--image",
                image,
                "--layer",
                layer.digest().toString(),
                "/" + file.path(),
                "-o",
                got.toString());

        assertThat(code).as(err.toString()).isZero();
        assertThat(Files.readAllBytes(got)).isEqualTo(extractWithTar(layerFile, file));
        long spans = SociCommandsIT.spanBytes(ztoc, file.path());
        assertThat(proxy.bytesFromServer())
            .as("%s: zTOC %d + spans %d bytes", file.path(), layerZtoc.ztoc().size(), spans)
            .isLessThan(layerZtoc.ztoc().size() + spans + 65_536)
            .isLessThan(layer.size() / 4);
      }
    }
  }

  /** Follows symlinks inside the layer (relative or absolute) to the regular file. */
  static FileMetadata target(Ztoc ztoc, String path) {
    String current = path;
    for (int hop = 0; hop < 10; hop++) {
      FileMetadata f = resolveDirs(ztoc, current);
      if (f.linkName().isEmpty() || f.type().ztocName().equals("hardlink")) {
        return f;
      }
      String link = f.linkName();
      String parent =
          f.path().contains("/") ? f.path().substring(0, f.path().lastIndexOf('/')) : "";
      current = link.startsWith("/") ? link.substring(1) : parent + "/" + link;
      current = Path.of("/" + current).normalize().toString().substring(1);
    }
    throw new AssertionError("symlink loop at " + path);
  }

  /** Finds a path whose directories may be symlinks (bookworm's /bin -> usr/bin). */
  private static FileMetadata resolveDirs(Ztoc ztoc, String path) {
    var direct = ztoc.find(path);
    if (direct.isPresent()) {
      return direct.get();
    }
    int slash = path.indexOf('/');
    FileMetadata dir = ztoc.find(path.substring(0, slash)).orElseThrow();
    String resolved =
        Path.of("/" + path.substring(0, slash)).resolveSibling(dir.linkName()).normalize()
            + path.substring(slash);
    return ztoc.find(resolved.substring(1)).orElseThrow();
  }

  private static byte[] extractWithTar(Path layerFile, FileMetadata file) throws Exception {
    Process tar =
        new ProcessBuilder("tar", "-xzOf", layerFile.toString(), file.name())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    byte[] bytes = tar.getInputStream().readAllBytes();
    assertThat(tar.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(tar.exitValue()).isZero();
    return bytes;
  }
}
