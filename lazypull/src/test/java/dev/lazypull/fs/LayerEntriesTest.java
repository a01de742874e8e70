package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fs.tree.LayerEntry;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import dev.lazypull.ztoc.ZtocCodec;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerEntriesTest {

  @Test
  void of_nonUtf8NameAndLinkTarget_passesTheExactBytes() throws Exception {
    byte[] latin1 = {'d', '/', 'c', 'a', 'f', (byte) 0xe9};
    byte[] target = {'c', 'a', 'f', (byte) 0xff};
    var tar = TestLayers.tar().dir("d/");
    tar.add(latin1, '0').data(new byte[] {1, 2, 3});
    tar.add("d/link".getBytes(StandardCharsets.UTF_8), '2').linkTo(target);
    byte[] layer = TestLayers.gzip(tar.build().bytes());
    Ztoc built = new ZtocBuilder(1 << 16, "test").build(new ByteArrayInputStream(layer), "layer");
    Ztoc ztoc = ZtocCodec.decode(ZtocCodec.encode(built), "ztoc");

    List<LayerEntry> entries = LayerEntries.of(ztoc);

    assertThat(entries).hasSize(3);
    assertThat(entries.get(1).rawName()).isEqualTo(latin1);
    assertThat(entries.get(2).rawName()).isEqualTo("d/link".getBytes(StandardCharsets.UTF_8));
    assertThat(entries.get(2).linkName()).isEqualTo(target);
  }
}
