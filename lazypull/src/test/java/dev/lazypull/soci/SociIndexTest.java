package dev.lazypull.soci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SociIndexTest {

  static final Descriptor LAYER =
      Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(new byte[] {1}), 12345);

  @Test
  void emptyConfig_isTheWellKnownTwoByteBlob() {
    Descriptor config = SociIndex.emptyConfig(IndexVersion.V2);
    assertThat(config.digest().toString())
        .isEqualTo("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    assertThat(config.size()).isEqualTo(2);
    assertThat(config.mediaType()).isEqualTo(MediaTypes.SOCI_INDEX_V2);
  }

  @Test
  void document_v1_roundTripsThroughParse() throws Exception {
    byte[] ztoc = {9, 9, 9};
    Descriptor z = SociIndex.ztocDescriptor(LAYER, ztoc, 4194304);
    Descriptor subject = Descriptor.of(MediaTypes.OCI_MANIFEST, Digest.sha256(new byte[] {2}), 500);
    byte[] bytes = OciJson.write(SociIndex.document(IndexVersion.V1, List.of(z), subject, "t 1"));

    SociIndex index = SociIndex.parse(Digest.sha256(bytes), bytes, "index");

    assertThat(index.version()).isEqualTo(IndexVersion.V1);
    assertThat(index.manifest().subject()).isEqualTo(subject);
    assertThat(index.ztocs()).containsExactly(z);
    assertThat(index.manifest().annotationsOrEmpty())
        .containsEntry(MediaTypes.ANN_SOCI_BUILD_TOOL, "t 1");
    assertThat(new LayerZtoc(LAYER, z).spanSize()).isEqualTo(4194304);
  }

  @Test
  void ztocs_skipsLayersOfOtherTypes() throws Exception {
    Descriptor z = SociIndex.ztocDescriptor(LAYER, new byte[] {1}, 65536);
    Descriptor prefetch =
        Descriptor.of(
            "application/vnd.amazon.soci.prefetch.v1+json", Digest.sha256(new byte[] {3}), 3);
    ImageManifest doc = SociIndex.document(IndexVersion.V2, List.of(prefetch, z), null, "t");
    byte[] bytes = OciJson.write(doc);

    assertThat(SociIndex.parse(Digest.sha256(bytes), bytes, "i").ztocs()).containsExactly(z);
  }

  @Test
  void parse_imageManifest_isRejectedNamingItsType() {
    byte[] image =
        ("{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST
                + "\",\"config\":"
                + "{\"mediaType\":\""
                + MediaTypes.OCI_CONFIG
                + "\",\"digest\":\""
                + Digest.sha256(new byte[0])
                + "\",\"size\":0},\"layers\":[]}")
            .getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> SociIndex.parse(Digest.sha256(image), image, "index X"))
        .isInstanceOf(SociException.class)
        .hasMessageContaining("index X is not a SOCI index")
        .hasMessageContaining(MediaTypes.OCI_CONFIG);
  }
}
