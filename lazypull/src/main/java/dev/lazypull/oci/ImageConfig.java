package dev.lazypull.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An image configuration. Only what lazypull reads is modelled (platform, the layers' diff ids);
 * the runtime config, history and the rest are kept in {@code otherFields}.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ImageConfig(
    @Nullable String architecture,
    @Nullable String os,
    @Nullable String variant,
    @Nullable RootFs rootfs,
    @JsonAnySetter @JsonAnyGetter Map<String, Object> otherFields) {

  public ImageConfig {
    otherFields = otherFields == null ? new LinkedHashMap<>() : otherFields;
  }

  /** The digests of the uncompressed layers, in layer order; empty when the config has none. */
  public List<Digest> diffIds() {
    return rootfs == null ? List.of() : rootfs.diffIds();
  }

  /** The {@code rootfs} section: the uncompressed layers' digests. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public record RootFs(String type, @JsonProperty("diff_ids") List<Digest> diffIds) {
    public RootFs {
      diffIds = diffIds == null ? List.of() : List.copyOf(diffIds);
    }
  }
}
