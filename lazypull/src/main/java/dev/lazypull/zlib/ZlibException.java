package dev.lazypull.zlib;

import java.io.IOException;

/** zlib reported corrupt input or an unusable stream state. */
public final class ZlibException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int code;

  public ZlibException(String message, int code) {
    super(message);
    this.code = code;
  }

  /** zlib's return code (Z_DATA_ERROR = -3, ...). */
  public int code() {
    return code;
  }
}
