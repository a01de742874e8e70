package dev.lazypull.ztoc;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** The RFC 3339 text zTOCs use for modification times. */
public final class ModTimes {
  private ModTimes() {}

  /** Parses RFC 3339 with any zone offset ({@code Z}, {@code -05:00}) and optional fraction. */
  public static OffsetDateTime parse(String text) {
    try {
      return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not an RFC 3339 time: '" + text + "'", e);
    }
  }

  /** Formats in UTC: seconds when whole, else with the fraction's significant digits. */
  public static String format(Instant time) {
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(time.atOffset(ZoneOffset.UTC));
  }
}
