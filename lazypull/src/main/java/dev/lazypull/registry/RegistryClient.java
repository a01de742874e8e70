package dev.lazypull.registry;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageConfig;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.OciJson;
import dev.lazypull.oci.Platform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A client of OCI registries (distribution API v2). Thread-safe; keep one per process so that
 * connections, tokens and what is known about each registry are shared. Repositories are named by
 * an {@link ImageReference}; its tag or digest is ignored where only the repository matters.
 */
public final class RegistryClient {

  /** Configs and other small blobs read into memory are capped at this size. */
  private static final int MAX_SMALL_BLOB_BYTES = 64 << 20;

  private final RegistryOptions options;
  private final RequestSender sender;
  private final ManifestFetcher manifestFetcher;
  private final BlobReader blobReader;
  private final BlobUploader blobUploader;
  private final ManifestUploader manifestUploader;

  private RegistryClient(RegistryOptions options, HttpTransport transport) {
    this.options = options;
    var endpoints = new Endpoints(options.insecureHosts(), options.hosts());
    var fallback = new EndpointFallback(endpoints);
    var authenticator = new Authenticator(options.credentials(), Clock.systemUTC());
    this.sender = new RequestSender(transport, authenticator, options.retryPolicy());
    this.manifestFetcher = new ManifestFetcher(sender, endpoints, fallback);
    this.blobReader =
        new BlobReader(sender, endpoints, fallback, options.allowFullDownloadForRanges());
    this.blobUploader = new BlobUploader(sender, endpoints, blobReader);
    this.manifestUploader = new ManifestUploader(sender, endpoints, fallback);
  }

  public static RegistryClient create(RegistryOptions options) {
    return new RegistryClient(
        options, new JdkHttpTransport(options.connectTimeout(), options.readTimeout()));
  }

  /** Body bytes received from registries (and their storage redirects) by this client so far. */
  public long bytesReceived() {
    return sender.bytesReceived();
  }

  /** Fetches what the reference names, index or manifest, without resolving a platform. */
  public FetchedManifest fetchManifest(ImageReference reference) throws RegistryException {
    return manifestFetcher.fetch(reference);
  }

  /** Resolves the reference to an image manifest for the options' platform. */
  public ResolvedImage resolveManifest(ImageReference reference) throws RegistryException {
    return manifestFetcher.resolve(reference, options.platform());
  }

  /** Resolves the reference to an image manifest for {@code platform}. */
  public ResolvedImage resolveManifest(ImageReference reference, Platform platform)
      throws RegistryException {
    return manifestFetcher.resolve(reference, platform);
  }

  /** The image's config (digest verified). */
  public ImageConfig fetchConfig(ResolvedImage image) throws RegistryException, IOException {
    byte[] bytes = fetchBlobBytes(image.requested(), image.imageManifest().config());
    return OciJson.read(bytes, ImageConfig.class);
  }

  /** Whether the repository has the blob (HEAD) where pushes go (the first push endpoint). */
  public boolean blobExists(ImageReference repository, Digest digest) throws RegistryException {
    return blobReader.exists(repository, digest);
  }

  /** Streams a whole blob to {@code out}, verifying its size and digest; throws on mismatch. */
  public void fetchBlob(ImageReference repository, Descriptor blob, OutputStream out)
      throws RegistryException, IOException {
    blobReader.fetch(repository, blob, out);
  }

  /** Downloads a whole blob to {@code target}; the file appears only once verified. */
  public void fetchBlob(ImageReference repository, Descriptor blob, Path target)
      throws RegistryException, IOException {
    blobReader.fetch(repository, blob, target);
  }

  /** A small blob (config, zTOC, manifest-sized) in memory, verified; at most 64 MiB. */
  public byte[] fetchBlobBytes(ImageReference repository, Descriptor blob)
      throws RegistryException, IOException {
    if (blob.size() > MAX_SMALL_BLOB_BYTES) {
      throw new IllegalArgumentException(
          "blob " + blob.digest() + " has " + blob.size() + " bytes; stream it with fetchBlob");
    }
    var out = new ExactSizeBytes((int) blob.size());
    blobReader.fetch(repository, blob, out);
    return out.bytes();
  }

  /** Collects a blob of known size without the copy toByteArray makes (zTOCs run to 50 MB). */
  private static final class ExactSizeBytes extends ByteArrayOutputStream {
    ExactSizeBytes(int size) {
      super(size);
    }

    byte[] bytes() {
      return count == buf.length ? buf : toByteArray();
    }
  }

  /**
   * Opens bytes [{@code offset}, {@code offset + length}) of a blob of {@code blobSize} bytes,
   * clamped to the blob's end. The stream yields exactly the clamped length or throws; close it. A
   * registry that ignores Range is read from the start (logged once, remembered).
   */
  public InputStream openRange(
      ImageReference repository, Digest digest, long blobSize, long offset, long length)
      throws RegistryException {
    return blobReader.openRange(repository, digest, blobSize, offset, length);
  }

  /**
   * Pushes a blob in one PUT unless the repository has it; with {@code mountFrom} (another
   * repository of the same registry) it is linked from there when possible.
   */
  public BlobPushOutcome pushBlob(
      ImageReference repository, Descriptor blob, RequestBody content, @Nullable String mountFrom)
      throws RegistryException {
    return blobUploader.push(repository, blob, content, mountFrom, 0);
  }

  /** Pushes a blob in PATCH chunks of {@code chunkBytes} unless the repository has it. */
  public BlobPushOutcome pushBlobChunked(
      ImageReference repository, Descriptor blob, RequestBody content, long chunkBytes)
      throws RegistryException {
    if (chunkBytes <= 0) {
      throw new IllegalArgumentException("chunk size must be positive: " + chunkBytes);
    }
    return blobUploader.push(repository, blob, content, null, chunkBytes);
  }

  /**
   * Pushes manifest or index bytes under the reference's tag, or its digest when it has no tag; the
   * bytes are sent exactly as given.
   */
  public PushedManifest pushManifest(ImageReference target, String mediaType, byte[] bytes)
      throws RegistryException {
    return manifestUploader.push(target, mediaType, bytes);
  }

  /** Points {@code tag} of the manifest's repository at an already fetched manifest. */
  public PushedManifest tag(FetchedManifest manifest, String tag) throws RegistryException {
    return manifestUploader.push(
        manifest.reference().withTag(tag), manifest.mediaType(), manifest.bytes());
  }

  /**
   * Deletes the manifest the reference names by digest; a registry without deletes answers 405
   * (RegistryProtocolException). Deleting a manifest that is already gone succeeds.
   */
  public void deleteManifest(ImageReference manifestByDigest) throws RegistryException {
    manifestUploader.delete(manifestByDigest);
  }

  /** All tags of the repository, following pagination. */
  public List<String> listTags(ImageReference repository) throws RegistryException {
    return manifestUploader.tags(repository);
  }

  /**
   * The referrers of {@code subject}, filtered by {@code artifactType} when given; empty when the
   * registry has no referrers API, in which case read the tag {@link #referrersTag(Digest)}.
   */
  public Optional<ImageIndex> referrers(
      ImageReference repository, Digest subject, @Nullable String artifactType)
      throws RegistryException {
    return manifestUploader.referrers(repository, subject, artifactType);
  }

  /** The referrers fallback tag of a subject: {@code sha256-<hex>}. */
  public static String referrersTag(Digest subject) {
    return ManifestUploader.referrersTag(subject);
  }
}
