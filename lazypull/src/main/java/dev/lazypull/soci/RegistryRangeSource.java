package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.ztoc.CompressedRangeSource;
import java.io.IOException;
import java.io.InputStream;

/** A layer's compressed bytes read with ranged GETs from the registry. */
public record RegistryRangeSource(
    RegistryClient client, ImageReference repository, Descriptor layer)
    implements CompressedRangeSource {

  @Override
  public InputStream open(long compressedOffset, long length) throws IOException {
    try {
      return client.openRange(repository, layer.digest(), layer.size(), compressedOffset, length);
    } catch (RegistryException e) {
      throw new IOException(e.getMessage(), e);
    }
  }
}
