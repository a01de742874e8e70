package dev.lazypull.zlib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The downcall handles into libz.so.1. The library is loaded by full path: a bare name would be
 * resolved through the loader's search path, which a container image could shadow.
 */
final class Zlib {
  static final int Z_OK = 0;
  static final int Z_STREAM_END = 1;
  static final int Z_NEED_DICT = 2;
  static final int Z_BUF_ERROR = -5;

  static final int Z_NO_FLUSH = 0;
  static final int Z_BLOCK = 5;

  private static final List<Path> CANDIDATES =
      List.of(
          Path.of("/usr/lib/x86_64-linux-gnu/libz.so.1"),
          Path.of("/lib/x86_64-linux-gnu/libz.so.1"),
          Path.of("/usr/lib64/libz.so.1"),
          Path.of("/usr/lib/libz.so.1"));

  private static final SymbolLookup LIBRARY = load();

  private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
  private static final ValueLayout PTR = ValueLayout.ADDRESS;

  static final MethodHandle INFLATE_INIT2 = bind("inflateInit2_", INT, PTR, INT, PTR, INT);
  static final MethodHandle INFLATE = bind("inflate", INT, PTR, INT);
  static final MethodHandle INFLATE_END = bind("inflateEnd", INT, PTR);
  static final MethodHandle INFLATE_RESET2 = bind("inflateReset2", INT, PTR, INT);
  static final MethodHandle INFLATE_PRIME = bind("inflatePrime", INT, PTR, INT, INT);
  static final MethodHandle INFLATE_SET_DICTIONARY =
      bind("inflateSetDictionary", INT, PTR, PTR, INT);
  static final MethodHandle ZLIB_VERSION = bind("zlibVersion", PTR);

  /** zlib's own version string, passed back to inflateInit2_ as its ABI check expects. */
  static final MemorySegment VERSION;

  static {
    try {
      VERSION = ((MemorySegment) ZLIB_VERSION.invokeExact()).reinterpret(64);
    } catch (Throwable t) {
      throw new ExceptionInInitializerError(t);
    }
  }

  private Zlib() {}

  private static MethodHandle bind(String name, ValueLayout result, ValueLayout... args) {
    MemorySegment symbol =
        LIBRARY
            .find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError("libz.so.1 has no symbol " + name));
    return Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(result, args));
  }

  private static SymbolLookup load() {
    for (Path candidate : CANDIDATES) {
      if (Files.exists(candidate)) {
        return SymbolLookup.libraryLookup(candidate, Arena.global());
      }
    }
    throw new UnsatisfiedLinkError(
        "zlib not found at " + CANDIDATES + "; install it with: apt-get install -y zlib1g");
  }
}
