package dev.lazypull.estargz;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.List;

/** An eStargz table of contents: {@code stargz.index.json}. */
public record Toc(int version, List<TocEntry> entries) {

  /** The TOC's tar entry name; also the last entry of every eStargz layer. */
  public static final String TAR_NAME = "stargz.index.json";

  /** Writes TOCs (reading is {@link TocParser}'s): fields at their defaults are left out. */
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .defaultPropertyInclusion(
              JsonInclude.Value.construct(
                  JsonInclude.Include.NON_DEFAULT, JsonInclude.Include.NON_DEFAULT))
          .build();

  public Toc {
    entries = List.copyOf(entries);
  }

  /** Parses TOC JSON; an EstargzException says what is wrong. */
  public static Toc parse(byte[] json) throws EstargzException {
    Toc toc;
    try {
      toc = TocParser.parse(json);
    } catch (IOException | RuntimeException e) {
      throw new EstargzException("the TOC is not valid eStargz TOC JSON: " + e.getMessage(), e);
    }
    if (toc.version() != 1) {
      throw new EstargzException(
          "the TOC has version " + (toc.version() < 0 ? "none" : toc.version()) + ", not 1");
    }
    return toc;
  }

  /** The JSON bytes, fields at their defaults left out as the reference writer does. */
  public byte[] toJson() {
    try {
      return MAPPER.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise a TOC", e);
    }
  }
}
