package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.ExpiringBlobServer;
import dev.lazypull.testing.Fault;
import dev.lazypull.testing.FaultProxy;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A lazy mount of a small SOCI image read through a {@link FaultProxy} in front of the real
 * docker-registry. Under every fault each read returns the right bytes or fails with EIO within the
 * bound; wrong bytes are never served or cached; once the fault clears the same reads succeed on
 * the same mount.
 */
class FaultIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  private static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

  /**
   * The longest one read may take: the read timeout, plus 2 s for the kernel and the JVM. It used
   * to be twice that: a file's first read checked its tar header before reading its data, and the
   * kernel asks again at once for a page whose readahead failed; now the header is checked beside
   * the data read and a span that has just failed fails again at once.
   */
  private static final Duration READ_BOUND = READ_TIMEOUT.plusSeconds(2);

  private static final boolean LONG = Boolean.getBoolean("lazypull.long");
  private static final List<String> ALL = List.copyOf(FaultWorkload.FILES.keySet());

  /** Under a fault that persists, the small run reads one multi-span file; --long reads all. */
  private static final List<String> UNDER_FAULT =
      LONG ? ALL : List.of(FaultWorkload.MULTI_SPAN_FILE);

  private static ExpiringBlobServer storage;

  @TempDir Path scratch;

  @BeforeAll
  static void pushAndConvert() throws Exception {
    ImageReference source = registry.reference("faults:src");
    TestImage.push(
        RegistryClient.create(RegistryOptions.defaults()), source, FaultWorkload.layers());
    int exit =
        Main.newCommandLine()
            .execute(
                "convert",
                "--span-size",
                "65536",
                "--min-layer-size",
                "0",
                source.toString(),
                registry.reference("faults:soci").toString());
    assertThat(exit).isZero();
    lazyStorage();
  }

  @AfterAll
  static void stopStorage() {
    if (storage != null) {
      storage.close();
    }
  }

  /** The image mounted through a fresh proxy, with an empty cache. */
  private final class Mounted implements AutoCloseable {
    final FaultProxy proxy;
    final LazyImage image;
    final FuseMount mount;
    final Path root;

    Mounted() throws Exception {
      proxy = FaultProxy.to(registry.port());
      var options =
          RegistryOptions.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2));
      image =
          LazyImage.open(
              RegistryClient.create(options),
              proxy.reference("faults:soci"),
              new LazyImage.Options(scratch.resolve("cache"), 1L << 30, READ_TIMEOUT, null, false));
      assertThat(image.indexed()).isTrue();
      root = Files.createDirectories(scratch.resolve("mnt"));
      mount =
          FuseMount.mount(
              root,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"));
    }

    /** The lower layer: most files, and the one the corrupt span is put in. */
    Descriptor lowerLayer() {
      return image.image().imageManifest().layers().getFirst();
    }

    @Override
    public void close() throws IOException {
      try (proxy;
          image;
          mount) {
        // Unmounted first, then the image and the proxy.
      }
    }
  }

  private LazyImage openThrough(FaultProxy proxy) throws Exception {
    var options =
        RegistryOptions.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2));
    return LazyImage.open(
        RegistryClient.create(options),
        proxy.reference("faults:soci"),
        new LazyImage.Options(scratch.resolve("open-cache"), 1L << 30, READ_TIMEOUT, null, false));
  }

  static Stream<Arguments> bodyFaults() {
    return Stream.of(
        Arguments.of("resetMidBody", new Fault.ResetMidBody()),
        Arguments.of("truncatedBody", new Fault.Truncate()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bodyFaults")
  void open_manifestBodyBreaksOffOnce_askedAgainAndOpens(String name, Fault fault)
      throws Exception {
    // A manifest whose answer broke off after its headers failed the whole mount: the sender
    // retries requests, and nothing retried a body.
    try (var proxy = FaultProxy.to(registry.port())) {
      proxy.inject(fault, r -> r.method().equals("GET") && r.path().contains("/manifests/"), 1);
      try (LazyImage image = openThrough(proxy)) {
        assertThat(image.indexed()).isTrue();
      }
      assertThat(proxy.injected()).isEqualTo(1);
    }
  }

  @Test
  void open_firstRequestsOfEveryKindFail_retriedAndOpens() throws Exception {
    try (var proxy = FaultProxy.to(registry.port())) {
      proxy.inject(new Fault.Status(503, "0"), r -> true, 2);
      proxy.inject(new Fault.ResetMidBody(), FaultProxy.blobGets(), 2);
      proxy.inject(new Fault.Status(502, null), r -> r.path().contains("/manifests/"), 1);
      try (LazyImage image = openThrough(proxy)) {
        assertThat(image.indexed()).isTrue();
      }
      assertThat(proxy.injected()).isEqualTo(5);
    }
  }

  @Test
  void open_registryAnswers500ForGood_failsWithOneLineNamingTheImage() throws Exception {
    try (var proxy = FaultProxy.to(registry.port())) {
      proxy.always(new Fault.Status(500, null), r -> true);
      long start = System.nanoTime();
      try (LazyImage image = openThrough(proxy)) {
        throw new AssertionError("opened through a registry answering 500: " + image);
      } catch (dev.lazypull.registry.RegistryException e) {
        assertThat(e.getMessage()).contains("faults:soci").contains("500").doesNotContain("\n");
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("bounded by the retry policy's 60 s budget")
          .isLessThan(Duration.ofSeconds(70));
    }
  }

  static Stream<Arguments> failingFaults() {
    return Stream.of(
        Arguments.of("resetMidBody", new Fault.ResetMidBody()),
        Arguments.of("stall", new Fault.Stall(Duration.ofSeconds(60))),
        Arguments.of("truncatedBody", new Fault.Truncate()),
        Arguments.of("status500", new Fault.Status(500, null)),
        Arguments.of("status502", new Fault.Status(502, null)),
        Arguments.of("status503RetryAfter", new Fault.Status(503, "1")),
        Arguments.of("status429RetryAfter", new Fault.Status(429, "1")),
        Arguments.of("redirectToExpiredUrl", expiredRedirect()));
  }

  /** A redirect whose URL expired a second before it is used (a client that queued it). */
  private static Fault expiredRedirect() {
    return new Fault.RedirectToExpiringUrl(lazyStorage(), Duration.ofSeconds(-1));
  }

  /** The storage server exists once @BeforeAll ran; argument lists are built before that. */
  private static ExpiringBlobServer lazyStorage() {
    try {
      if (storage == null) {
        storage = ExpiringBlobServer.over(registry.storage());
      }
      return storage;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failingFaults")
  void read_persistentFault_eioWithinBoundThenRightBytesWithoutRemount(String name, Fault fault)
      throws Exception {
    try (var mounted = new Mounted()) {
      mounted.proxy.always(fault, FaultProxy.blobGets());

      var during = FaultWorkload.readEach(mounted.root, UNDER_FAULT);
      during.assertNothingWrong(READ_BOUND);
      assertThat(during.eio()).as("a persistent %s fails the reads", name).isNotEmpty();
      assertThat(mounted.proxy.injected()).isPositive();

      faultCleared(mounted);
      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
    }
  }

  static Stream<Arguments> transientFaults() {
    return Stream.of(
        Arguments.of("resetMidBody", new Fault.ResetMidBody(), 3),
        Arguments.of("stall", new Fault.Stall(Duration.ofSeconds(60)), 1),
        Arguments.of("truncatedBody", new Fault.Truncate(), 3),
        Arguments.of("status500", new Fault.Status(500, null), 3),
        Arguments.of("status502", new Fault.Status(502, null), 3),
        Arguments.of("status503RetryAfter", new Fault.Status(503, "1"), 1),
        Arguments.of("status429RetryAfter", new Fault.Status(429, "1"), 1));
  }

  @ParameterizedTest(name = "{0} x{2}")
  @MethodSource("transientFaults")
  void read_transientFault_retriedToTheRightBytes(String name, Fault fault, int times)
      throws Exception {
    try (var mounted = new Mounted()) {
      mounted.proxy.inject(fault, FaultProxy.blobGets(), times);

      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
      assertThat(mounted.proxy.injected()).isEqualTo(times);
    }
  }

  static Stream<Arguments> toleratedFaults() {
    return Stream.of(
        Arguments.of("rangeAnsweredWithWholeBlob", new Fault.IgnoreRange()),
        Arguments.of("multipartByteranges", new Fault.Multipart()),
        Arguments.of(
            "redirectToExpiringUrl",
            new Fault.RedirectToExpiringUrl(lazyStorage(), Duration.ofSeconds(30))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("toleratedFaults")
  void read_answerThatIsOddButRight_rightBytes(String name, Fault fault) throws Exception {
    try (var mounted = new Mounted()) {
      mounted.proxy.always(fault, FaultProxy.blobGets());

      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
      assertThat(mounted.proxy.injected()).isPositive();
    }
  }

  @Test
  void read_multiRangeRefused_neverAskedFor() throws Exception {
    try (var mounted = new Mounted()) {
      mounted.proxy.always(new Fault.RejectMultiRange(), FaultProxy.blobGets());

      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
      assertThat(mounted.proxy.injected()).isZero();
      assertThat(mounted.proxy.seen())
          .filteredOn(r -> r.range() != null)
          .isNotEmpty()
          .allSatisfy(r -> assertThat(r.range()).doesNotContain(","));
    }
  }

  @Test
  void read_redirectUrlExpiredOnce_resolvedAgainToTheRightBytes() throws Exception {
    try (var mounted = new Mounted()) {
      int refusedBefore = lazyStorage().refused();
      mounted.proxy.inject(expiredRedirect(), FaultProxy.blobGets(), 1);
      mounted.proxy.always(
          new Fault.RedirectToExpiringUrl(lazyStorage(), Duration.ofSeconds(30)),
          FaultProxy.blobGets());

      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
      assertThat(lazyStorage().refused() - refusedBefore).isEqualTo(1);
    }
  }

  @Test
  void read_corruptSpan_neverServedNorCachedAndRightAfterTheFaultClears() throws Exception {
    try (var mounted = new Mounted()) {
      Descriptor layer = mounted.lowerLayer();
      mounted.proxy.always(
          new Fault.CorruptSpan(layer.size() / 2, 64),
          FaultProxy.blobGetsOf(layer.digest().toString()));

      var during = FaultWorkload.readEach(mounted.root, ALL);
      during.assertNothingWrong(READ_BOUND);
      assertThat(during.eio()).as("files in the corrupt span").isNotEmpty();
      assertThat(during.right()).as("files elsewhere").isNotEmpty();

      faultCleared(mounted);
      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
    }
  }

  @Test
  void backgroundFetch_corruptSpanWhileFetching_layerUsableAfterTheFaultClears() throws Exception {
    try (var mounted = new Mounted()) {
      Descriptor layer = mounted.lowerLayer();
      long corruptAt = layer.size() / 2;
      mounted.proxy.always(
          new Fault.CorruptSpan(corruptAt, 64), FaultProxy.blobGetsOf(layer.digest().toString()));
      mounted.image.startBackgroundFetch(BackgroundFetchPolicy.IMMEDIATE);
      awaitRequestCovering(mounted.proxy, layer, corruptAt);
      Thread.sleep(1000); // the fetcher checks the span twice, then goes on or stops

      faultCleared(mounted);
      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
    }
  }

  @Test
  void backgroundFetch_registryDownForLongerThanOneFetch_completesTheLayerOnceBack()
      throws Exception {
    // The background fetch stopped at its first failed fetch and never went on, leaving the
    // layers partly fetched for the rest of the mount.
    try (var mounted = new Mounted()) {
      mounted.proxy.always(new Fault.Status(503, null), FaultProxy.blobGets());
      mounted.image.startBackgroundFetch(BackgroundFetchPolicy.IMMEDIATE);
      Thread.sleep(READ_TIMEOUT.plusSeconds(2)); // at least one fetch has failed for good
      assertThat(mounted.proxy.injected()).isPositive();

      faultCleared(mounted);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!everyIndexedLayerCached(mounted.image) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertThat(everyIndexedLayerCached(mounted.image))
          .as("every layer fetched in the background after the registry came back")
          .isTrue();
      mounted.proxy.always(new Fault.Status(500, null), FaultProxy.blobGets());
      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
    }
  }

  private static boolean everyIndexedLayerCached(LazyImage image) {
    return image.layers().stream()
        .allMatch(
            l ->
                l instanceof dev.lazypull.fs.layer.IndexedLayer indexed
                    && indexed.cached(0, indexed.uncompressedSize()));
  }

  /** Waits (at most 20 s) until a range request for the layer covers {@code blobOffset}. */
  private static void awaitRequestCovering(FaultProxy proxy, Descriptor layer, long blobOffset)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      boolean covered =
          proxy.seen().stream()
              .filter(r -> r.path().contains(layer.digest().toString()) && r.range() != null)
              .anyMatch(
                  r -> {
                    String[] bounds = r.range().substring("bytes=".length()).split("-");
                    return Long.parseLong(bounds[0]) <= blobOffset
                        && blobOffset <= Long.parseLong(bounds[1]);
                  });
      if (covered) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no request covered blob offset " + blobOffset + " within 20 s");
  }

  @Test
  void read_faultsAtRandom_neverWrongAndRightAfterTheFaultsClear() throws Exception {
    try (var mounted = new Mounted()) {
      mounted.proxy.atRate(new Fault.ResetMidBody(), FaultProxy.blobGets(), 0.2, 42);
      mounted.proxy.atRate(new Fault.Status(503, "0"), FaultProxy.blobGets(), 0.2, 43);
      mounted.proxy.atRate(new Fault.Truncate(), FaultProxy.blobGets(), 0.2, 44);

      FaultWorkload.readEach(mounted.root, ALL).assertNothingWrong(READ_BOUND);
      assertThat(mounted.proxy.injected()).isPositive();

      faultCleared(mounted);
      FaultWorkload.readEach(mounted.root, ALL).assertAllRight(READ_BOUND);
    }
  }

  /**
   * Clears the fault and lets the moment pass in which a span that has just failed fails again
   * without asking the registry (the kernel's immediate second request for a failed page).
   */
  private static void faultCleared(Mounted mounted) throws InterruptedException {
    mounted.proxy.clear();
    Thread.sleep(300);
  }
}
