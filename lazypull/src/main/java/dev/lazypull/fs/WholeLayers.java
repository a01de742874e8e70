package dev.lazypull.fs;

import dev.lazypull.estargz.EstargzException;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.Footer;
import dev.lazypull.fs.layer.LocalLayer;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.tar.SparseExpander;
import dev.lazypull.ztoc.GzipLayers;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Layers that have no zTOC (too small for one, or an image without an index) are fetched whole,
 * their digest checked while they stream, and kept uncompressed on local disk, where any offset can
 * be read directly. A verified layer is reused by later mounts.
 */
final class WholeLayers {
  private static final Logger log = LoggerFactory.getLogger(WholeLayers.class);

  private static final int GZIP_MAGIC_0 = 0x1f;
  private static final int GZIP_MAGIC_1 = 0x8b;

  private WholeLayers() {}

  /** A whole layer on disk with the index of its tar. */
  record Fetched(LocalLayer layer, Ztoc toc) {}

  /**
   * @param stargzHint whether to say (INFO) that a layer ending with an (e)stargz footer could be
   *     mounted lazily with insecure-skip-verify; false when that option is on already
   */
  static Fetched fetch(
      RegistryClient client,
      ImageReference repository,
      Descriptor layer,
      Path dir,
      boolean stargzHint)
      throws IOException, RegistryException {
    Files.createDirectories(dir);
    Path tar = dir.resolve(layer.digest().hex() + ".tar");
    if (!Files.exists(tar)) {
      Path blob = dir.resolve(layer.digest().hex() + ".blob");
      client.fetchBlob(repository, layer, blob); // verified against the digest, then moved
      if (stargzHint && endsWithStargzFooter(blob)) {
        log.info(
            "layer {} of {} looks like (e)stargz (it ends with a stargz footer) but has no {}"
                + " annotation, so it was fetched whole and digest-checked; --insecure-skip-verify"
                + " (snapshotter: [estargz] allow_no_verification) would mount it lazily through"
                + " its unverified TOC",
            layer.digest(),
            repository,
            EstargzReader.TOC_DIGEST_ANNOTATION);
      }
      try {
        unpack(blob, tar, layer);
      } finally {
        Files.deleteIfExists(blob);
      }
    }
    // The uncompressed tar is indexed locally to learn its entries and their data offsets.
    Ztoc toc = new ZtocBuilder(ZtocBuilder.DEFAULT_SPAN_SIZE, "lazypull").build(tar);
    return new Fetched(LocalLayer.open(tar, layer.digest().toString()), toc);
  }

  /** Whether a downloaded blob ends with an eStargz or legacy stargz footer: a local read. */
  private static boolean endsWithStargzFooter(Path blob) {
    try (FileChannel channel = FileChannel.open(blob)) {
      int length = (int) Math.min(channel.size(), Footer.SIZE);
      ByteBuffer tail = ByteBuffer.allocate(length);
      channel.read(tail, channel.size() - length);
      Footer.decode(Arrays.copyOf(tail.array(), tail.position()));
      return true;
    } catch (EstargzException e) {
      return false;
    } catch (IOException e) {
      log.debug("cannot read the tail of {}: {}", blob, e.getMessage());
      return false;
    }
  }

  private static void unpack(Path blob, Path tar, Descriptor layer) throws IOException {
    if (layer.mediaType().equals(MediaTypes.OCI_LAYER_ZSTD)) {
      throw new IOException(
          "layer "
              + layer.digest()
              + " is zstd-compressed, which lazypull cannot read yet;"
              + " use a gzip image");
    }
    Path temp = tar.resolveSibling(tar.getFileName() + ".tmp");
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(blob), 1 << 16);
        OutputStream out = Files.newOutputStream(temp)) {
      raw.mark(2);
      boolean gzip = raw.read() == GZIP_MAGIC_0 && raw.read() == GZIP_MAGIC_1;
      raw.reset();
      try (InputStream in = gzip ? GzipLayers.decompress(raw) : raw) {
        in.transferTo(out);
      }
      out.close();
      // A zTOC cannot describe sparse files: they are written out whole, as containerd would.
      Path expanded = tar.resolveSibling(tar.getFileName() + ".expanded");
      try {
        if (SparseExpander.expand(temp, expanded)) {
          Files.move(expanded, temp, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(expanded);
      }
    } catch (IOException e) {
      Files.deleteIfExists(temp);
      throw new IOException(
          "unpacking layer "
              + layer.digest()
              + ": "
              + e.getMessage()
              + "; the layer is not a readable gzip or tar stream",
          e);
    }
    Files.move(temp, tar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
