package dev.lazypull.testing;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RequestBody;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Pushes an image made of in-code gzip layers as a real image: a config with the true diff ids
 * (umoci and containerd check them), the layers, and an OCI manifest.
 */
public final class TestImage {
  private TestImage() {}

  /**
   * Pushes the layers, bottom first, with {@code /bin/sh} as the config's Cmd, and tags ref. A
   * layer that does not start with the gzip magic is pushed as an uncompressed tar layer.
   */
  public static void push(RegistryClient client, ImageReference ref, List<byte[]> gzipLayers)
      throws Exception {
    push(client, ref, gzipLayers, List.of("/bin/sh"));
  }

  /** Pushes the gzip layers, bottom first, with {@code cmd} as the config's Cmd; tags ref. */
  public static void push(
      RegistryClient client, ImageReference ref, List<byte[]> gzipLayers, List<String> cmd)
      throws Exception {
    List<String> diffIds = new ArrayList<>();
    for (byte[] layer : gzipLayers) {
      diffIds.add("\"" + Digest.sha256(gunzip(layer)) + "\"");
    }
    byte[] config =
        ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":["
                + String.join(",", cmd.stream().map(arg -> "\"" + arg + "\"").toList())
                + "],"
                + "\"Env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                + String.join(",", diffIds)
                + "]}}")
            .getBytes(StandardCharsets.UTF_8);
    Descriptor configBlob =
        Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
    client.pushBlob(ref, configBlob, RequestBody.of(config), null);
    List<Descriptor> layers = new ArrayList<>();
    for (byte[] layer : gzipLayers) {
      String mediaType = isGzip(layer) ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER;
      var descriptor = Descriptor.of(mediaType, Digest.sha256(layer), layer.length);
      client.pushBlob(ref, descriptor, RequestBody.of(layer), null);
      layers.add(descriptor);
    }
    byte[] manifest =
        OciJson.write(ImageManifest.of(MediaTypes.OCI_MANIFEST, configBlob, layers, null));
    client.pushManifest(ref, MediaTypes.OCI_MANIFEST, manifest);
  }

  private static boolean isGzip(byte[] layer) {
    return layer.length > 1 && (layer[0] & 0xff) == 0x1f && (layer[1] & 0xff) == 0x8b;
  }

  private static byte[] gunzip(byte[] gzip) throws IOException {
    if (!isGzip(gzip)) {
      return gzip;
    }
    try (var in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
      return in.readAllBytes();
    }
  }
}
