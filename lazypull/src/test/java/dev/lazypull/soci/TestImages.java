package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.RequestBody;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Pushes images made of in-memory layers as proper images: config, layers, manifest. */
final class TestImages {
  private TestImages() {}

  /** A layer's bytes and the media type its manifest gives it. */
  record Layer(byte[] bytes, String mediaType) {
    static Layer gzip(byte[] bytes) {
      return new Layer(bytes, MediaTypes.OCI_LAYER_GZIP);
    }

    static Layer tar(byte[] bytes) {
      return new Layer(bytes, MediaTypes.OCI_LAYER);
    }

    Descriptor descriptor() {
      return Descriptor.of(mediaType, Digest.sha256(bytes), bytes.length);
    }
  }

  /** Pushes the image (linux/amd64) and tags it as {@code ref}; returns the manifest's bytes. */
  static byte[] push(RegistryClient client, ImageReference ref, List<Layer> layers)
      throws RegistryException {
    return push(client, ref, layers, "amd64");
  }

  /** Pushes the image for linux/{@code arch} and tags it as {@code ref}. */
  static byte[] push(RegistryClient client, ImageReference ref, List<Layer> layers, String arch)
      throws RegistryException {
    String diffIds =
        layers.stream()
            .map(l -> "\"" + Digest.sha256(l.bytes()) + "\"") // not the real diff ids: unused here
            .collect(Collectors.joining(","));
    byte[] config =
        ("{\"architecture\":\""
                + arch
                + "\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                + diffIds
                + "]}}")
            .getBytes(StandardCharsets.UTF_8);
    Descriptor configBlob =
        Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
    client.pushBlob(ref, configBlob, RequestBody.of(config), null);
    List<Descriptor> layerBlobs = new ArrayList<>();
    for (Layer layer : layers) {
      client.pushBlob(ref, layer.descriptor(), RequestBody.of(layer.bytes()), null);
      layerBlobs.add(layer.descriptor());
    }
    byte[] manifest =
        OciJson.write(ImageManifest.of(MediaTypes.OCI_MANIFEST, configBlob, layerBlobs, null));
    client.pushManifest(ref, MediaTypes.OCI_MANIFEST, manifest);
    return manifest;
  }
}
