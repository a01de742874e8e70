package dev.lazypull.snapshotter;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Unix SOCK_SEQPACKET sockets through FFM, with one file descriptor passed beside a message
 * (SCM_RIGHTS): Java's own unix-domain channels cannot pass descriptors. Struct layouts are those
 * of 64-bit Linux (x86_64 and arm64 agree). Failures are IOExceptions naming the call and path.
 */
final class UnixSockets {
  private static final int AF_UNIX = 1;
  private static final int SOCK_SEQPACKET = 5;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int SOL_SOCKET = 1;
  private static final int SCM_RIGHTS = 1;
  private static final int SO_RCVTIMEO = 20;
  private static final int MSG_NOSIGNAL = 0x4000;
  private static final int MSG_CTRUNC = 0x8;
  private static final int MSG_CMSG_CLOEXEC = 0x40000000;

  /** sizeof(struct sockaddr_un): sa_family_t then 108 bytes of path. */
  private static final int SOCKADDR_UN_SIZE = 110;

  /** sizeof(struct msghdr) on LP64. */
  private static final int MSGHDR_SIZE = 56;

  /** CMSG_SPACE(sizeof(int)): a 16-byte cmsghdr and the int, padded to 8. */
  private static final int CMSG_SPACE_ONE_FD = 24;

  /** CMSG_LEN(sizeof(int)). */
  private static final int CMSG_LEN_ONE_FD = 20;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  private static final MethodHandle SOCKET = bind("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle BIND = bind("bind", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle LISTEN = bind("listen", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle ACCEPT4 =
      bind("accept4", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
  private static final MethodHandle CONNECT =
      bind("connect", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle SENDMSG =
      bind("sendmsg", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle RECVMSG =
      bind("recvmsg", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle SETSOCKOPT =
      bind("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle SETSID = bind("setsid", JAVA_INT);
  private static final MethodHandle SHUTDOWN = bind("shutdown", JAVA_INT, JAVA_INT, JAVA_INT);

  private UnixSockets() {}

  /** A message and the descriptor that came with it (-1 for none); empty bytes at end of stream. */
  record Received(byte[] bytes, int fd) {
    String text() {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  private static MethodHandle bind(String name, MemoryLayout result, MemoryLayout... arguments) {
    return LINKER.downcallHandle(
        LINKER.defaultLookup().findOrThrow(name),
        FunctionDescriptor.of(result, arguments),
        Linker.Option.captureCallState("errno"));
  }

  private static IOException failure(String call, Object what, int errno) {
    return new IOException(call + " " + what + ": " + Libc.strerror(errno));
  }

  /** Binds and listens on {@code path}, which must not exist. */
  static int listen(Path path) throws IOException {
    int fd = socket();
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      int result = (int) BIND.invokeExact(state, fd, address(arena, path), SOCKADDR_UN_SIZE);
      if (result < 0) {
        throw failure("bind", path, errno(state));
      }
      result = (int) LISTEN.invokeExact(state, fd, 64);
      if (result < 0) {
        throw failure("listen", path, errno(state));
      }
      return fd;
    } catch (IOException | RuntimeException | Error e) {
      Libc.close(fd);
      throw e;
    } catch (Throwable t) {
      Libc.close(fd);
      throw new AssertionError(t);
    }
  }

  /** Waits for the next connection on {@code listening}. */
  static int accept(int listening) throws IOException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      int fd;
      do {
        fd =
            (int)
                ACCEPT4.invokeExact(
                    state, listening, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
      } while (fd < 0 && errno(state) == 4); // EINTR
      if (fd < 0) {
        throw failure("accept", "on the fd holder socket", errno(state));
      }
      return fd;
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Connects to {@code path}; replies then wait at most {@code receiveTimeout}. */
  static int connect(Path path, Duration receiveTimeout) throws IOException {
    int fd = socket();
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      int result = (int) CONNECT.invokeExact(state, fd, address(arena, path), SOCKADDR_UN_SIZE);
      if (result < 0) {
        throw failure("connect", path, errno(state));
      }
      // struct timeval { long tv_sec; long tv_usec; }
      var timeval = arena.allocate(16, 8);
      timeval.set(JAVA_LONG, 0, receiveTimeout.toSeconds());
      timeval.set(JAVA_LONG, 8, receiveTimeout.toMillisPart() * 1000L);
      result = (int) SETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_RCVTIMEO, timeval, 16);
      if (result < 0) {
        throw failure("setsockopt SO_RCVTIMEO", path, errno(state));
      }
      return fd;
    } catch (IOException | RuntimeException | Error e) {
      Libc.close(fd);
      throw e;
    } catch (Throwable t) {
      Libc.close(fd);
      throw new AssertionError(t);
    }
  }

  /** Sends {@code message} as one packet, with {@code fd} beside it unless it is negative. */
  static void send(int socket, byte[] message, int fd) throws IOException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      var data = arena.allocate(Math.max(1, message.length));
      MemorySegment.copy(message, 0, data, JAVA_BYTE, 0, message.length);
      var iov = arena.allocate(16, 8);
      iov.set(ADDRESS, 0, data);
      iov.set(JAVA_LONG, 8, message.length);
      var msg = arena.allocate(MSGHDR_SIZE, 8);
      msg.fill((byte) 0);
      msg.set(ADDRESS, 16, iov);
      msg.set(JAVA_LONG, 24, 1);
      if (fd >= 0) {
        var control = arena.allocate(CMSG_SPACE_ONE_FD, 8);
        control.fill((byte) 0);
        control.set(JAVA_LONG, 0, CMSG_LEN_ONE_FD);
        control.set(JAVA_INT, 8, SOL_SOCKET);
        control.set(JAVA_INT, 12, SCM_RIGHTS);
        control.set(JAVA_INT, 16, fd);
        msg.set(ADDRESS, 32, control);
        msg.set(JAVA_LONG, 40, CMSG_SPACE_ONE_FD);
      }
      long sent;
      do {
        sent = (long) SENDMSG.invokeExact(state, socket, msg, MSG_NOSIGNAL);
      } while (sent < 0 && errno(state) == 4); // EINTR
      if (sent < 0) {
        throw failure("sendmsg", "to the fd holder", errno(state));
      }
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * Receives one packet of at most {@code maxBytes}, and the descriptor sent beside it (opened
   * close-on-exec here). Empty bytes and no descriptor mean the peer closed the connection.
   */
  static Received receive(int socket, int maxBytes) throws IOException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      var data = arena.allocate(maxBytes);
      var iov = arena.allocate(16, 8);
      iov.set(ADDRESS, 0, data);
      iov.set(JAVA_LONG, 8, maxBytes);
      var control = arena.allocate(CMSG_SPACE_ONE_FD, 8);
      control.fill((byte) 0);
      var msg = arena.allocate(MSGHDR_SIZE, 8);
      msg.fill((byte) 0);
      msg.set(ADDRESS, 16, iov);
      msg.set(JAVA_LONG, 24, 1);
      msg.set(ADDRESS, 32, control);
      msg.set(JAVA_LONG, 40, CMSG_SPACE_ONE_FD);
      long length;
      do {
        length = (long) RECVMSG.invokeExact(state, socket, msg, MSG_CMSG_CLOEXEC);
      } while (length < 0 && errno(state) == 4); // EINTR
      if (length < 0) {
        int errno = errno(state);
        throw errno == 11 // EAGAIN: SO_RCVTIMEO ran out
            ? new IOException("the fd holder did not answer in time")
            : failure("recvmsg", "from the fd holder", errno);
      }
      int fd = -1;
      long controlLength = msg.get(JAVA_LONG, 40);
      if (controlLength >= CMSG_LEN_ONE_FD
          && control.get(JAVA_INT, 8) == SOL_SOCKET
          && control.get(JAVA_INT, 12) == SCM_RIGHTS) {
        fd = control.get(JAVA_INT, 16);
      }
      if ((msg.get(JAVA_INT, 48) & MSG_CTRUNC) != 0) {
        if (fd >= 0) {
          Libc.close(fd);
        }
        throw new IOException("a message from the fd holder came with more descriptors than one");
      }
      return new Received(data.asSlice(0, length).toArray(JAVA_BYTE), fd);
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Starts a new session (and process group), so that signals to the caller's group miss us. */
  static void setsid() throws IOException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      int result = (int) SETSID.invokeExact(state);
      if (result < 0 && errno(state) != 1) { // EPERM: already a group leader, nothing to leave
        throw failure("setsid", "for the fd holder", errno(state));
      }
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Shuts a socket down both ways: wakes a thread blocked in accept or recvmsg on it. */
  static void shutdown(int socket) {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      int ignored = (int) SHUTDOWN.invokeExact(state, socket, 2); // SHUT_RDWR
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  private static int socket() throws IOException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(CALL_STATE);
      int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        throw failure("socket", "AF_UNIX SOCK_SEQPACKET", errno(state));
      }
      return fd;
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  private static MemorySegment address(Arena arena, Path path) throws IOException {
    byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
    if (bytes.length >= SOCKADDR_UN_SIZE - 2) {
      throw new IOException(
          "unix socket path " + path + " is longer than 107 bytes; use a shorter --root");
    }
    var address = arena.allocate(SOCKADDR_UN_SIZE, 2);
    address.fill((byte) 0);
    address.set(JAVA_SHORT, 0, (short) AF_UNIX);
    MemorySegment.copy(bytes, 0, address, JAVA_BYTE, 2, bytes.length);
    return address;
  }

  private static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }
}
