package dev.lazypull.testing;

import java.time.Duration;

/** One misbehaviour a {@link FaultProxy} can put on an answer. */
public sealed interface Fault {

  /** Sends the headers and half the body, then resets the connection (RST). */
  record ResetMidBody() implements Fault {}

  /** Sends nothing for {@code duration} (or until the proxy's faults are cleared), then closes. */
  record Stall(Duration duration) implements Fault {}

  /** Announces the whole body's length but sends only half of it, then closes (FIN). */
  record Truncate() implements Fault {}

  /** Answers {@code status} with an error body and, unless null, a Retry-After header. */
  record Status(int status, String retryAfter) implements Fault {}

  /** Drops the Range header on the way to the registry, so the answer is 200 with every byte. */
  record IgnoreRange() implements Fault {}

  /** Answers 400 to a request asking for more than one range (a comma in Range). */
  record RejectMultiRange() implements Fault {}

  /** Wraps a 206 answer into {@code multipart/byteranges} with one part. */
  record Multipart() implements Fault {}

  /**
   * Answers 307 to a blob GET, pointing at {@code storage}, whose URL stops working (403) after
   * {@code urlLifetime}.
   */
  record RedirectToExpiringUrl(ExpiringBlobServer storage, Duration urlLifetime) implements Fault {}

  /**
   * Flips the bytes of the blob at {@code [blobOffset, blobOffset + length)} wherever an answer
   * carries them; everything else passes unchanged.
   */
  record CorruptSpan(long blobOffset, int length) implements Fault {}
}
