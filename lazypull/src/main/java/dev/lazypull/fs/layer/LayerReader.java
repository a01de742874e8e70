package dev.lazypull.fs.layer;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Reads a layer's uncompressed tar stream by offset. Thread-safe. */
public sealed interface LayerReader permits IndexedLayer, LocalLayer, EstargzLayer {

  /**
   * Fills {@code into} from {@code uncompressedOffset} on, stopping early only at the end of the
   * layer. Returns the bytes read.
   *
   * @throws BadLayerException if the layer was found not to match its digests
   * @throws IOException if the bytes could not be had within the retry and time bounds
   */
  int read(long uncompressedOffset, ByteBuffer into) throws IOException;

  /** The length of the uncompressed tar stream. */
  long uncompressedSize();

  /**
   * Whether a regular file's data offset is preceded by its tar header in this stream, so that the
   * header can be checked against the index before the first read. True for tar-offset layers;
   * false for eStargz, whose offsets are into its files' own bytes.
   */
  default boolean dataFollowsTarHeader() {
    return true;
  }

  /** Names the layer in messages: its digest. */
  String describe();

  /**
   * Marks the layer bad: every later read fails with {@link BadLayerException}. The first reason
   * given is kept.
   */
  void markBad(String reason);
}
