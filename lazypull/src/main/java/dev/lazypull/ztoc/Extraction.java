package dev.lazypull.ztoc;

/**
 * What an extraction did.
 *
 * @param uncompressedBytes bytes written to the output
 * @param compressedBytesRead bytes read from the range source
 * @param firstSpan the first span used
 * @param lastSpan the last span used
 */
public record Extraction(
    long uncompressedBytes, long compressedBytesRead, int firstSpan, int lastSpan) {}
