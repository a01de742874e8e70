package dev.lazypull.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/** The one JSON mapper for OCI documents: lenient on input, compact and stable on output. */
public final class OciJson {

  /** Unknown fields are kept by the records that must round-trip, ignored elsewhere. */
  public static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .serializationInclusion(JsonInclude.Include.NON_EMPTY)
          .build();

  private OciJson() {}

  /** Parses an OCI document; IOException names the type when the bytes are not one. */
  public static <T> T read(byte[] json, Class<T> type) throws IOException {
    return MAPPER.readValue(json, type);
  }

  /** Serialises a document; these records always serialise. */
  public static byte[] write(Object document) {
    try {
      return MAPPER.writeValueAsBytes(document);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise " + document.getClass().getSimpleName(), e);
    }
  }
}
