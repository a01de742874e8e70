package dev.lazypull.fuse;

/** Numbers and struct offsets of the kernel's FUSE protocol (linux/fuse.h, 7.40 layout). */
final class Protocol {
  static final int KERNEL_MAJOR = 7;

  /** 7.40 is the first minor with max_stack_depth in the INIT reply (passthrough). */
  static final int SERVER_MINOR = 40;

  // Opcodes this transport answers; everything else gets ENOSYS.
  static final int LOOKUP = 1;
  static final int FORGET = 2;
  static final int GETATTR = 3;
  static final int READLINK = 5;
  static final int OPEN = 14;
  static final int READ = 15;
  static final int STATFS = 17;
  static final int RELEASE = 18;
  static final int GETXATTR = 22;
  static final int LISTXATTR = 23;
  static final int INIT = 26;
  static final int OPENDIR = 27;
  static final int READDIR = 28;
  static final int RELEASEDIR = 29;
  static final int ACCESS = 34;
  static final int INTERRUPT = 36;
  static final int DESTROY = 38;
  static final int BATCH_FORGET = 42;
  static final int READDIRPLUS = 44;
  static final int LSEEK = 46;

  /** Above every opcode the kernel sends (STATX = 52 is the highest in 7.45). */
  static final int OPCODE_LIMIT = 64;

  /** struct fuse_in_header: len u32, opcode u32, unique u64, nodeid u64, uid, gid, pid u32. */
  static final long IN_HEADER_SIZE = 40;

  static final long IN_LEN = 0;
  static final long IN_OPCODE = 4;
  static final long IN_UNIQUE = 8;
  static final long IN_NODEID = 16;
  static final long IN_UID = 24;
  static final long IN_GID = 28;
  static final long IN_PID = 32;

  /** struct fuse_out_header: len u32, error i32 (-errno), unique u64. */
  static final long OUT_HEADER_SIZE = 16;

  /** struct fuse_attr. */
  static final int ATTR_SIZE = 88;

  /** struct fuse_entry_out: nodeid, generation, entry_valid, attr_valid, two nsec, attr. */
  static final int ENTRY_OUT_SIZE = 40 + ATTR_SIZE;

  /** struct fuse_attr_out: attr_valid u64, attr_valid_nsec u32, dummy u32, attr. */
  static final int ATTR_OUT_SIZE = 16 + ATTR_SIZE;

  /** struct fuse_dirent without its name: ino, off, namelen, type. */
  static final int DIRENT_SIZE = 24;

  static final int OPEN_OUT_SIZE = 16;
  static final int KSTATFS_SIZE = 80;
  static final int INIT_OUT_SIZE = 64;

  // INIT flags (flags, then flags2 as bits 32..63).
  static final long ASYNC_READ = 1L << 0;
  static final long BIG_WRITES = 1L << 5;
  static final long DO_READDIRPLUS = 1L << 13;
  static final long READDIRPLUS_AUTO = 1L << 14;
  static final long ASYNC_DIO = 1L << 15;
  static final long PARALLEL_DIROPS = 1L << 18;
  static final long MAX_PAGES = 1L << 22;
  static final long CACHE_SYMLINKS = 1L << 23;
  static final long INIT_EXT = 1L << 30;
  static final long PASSTHROUGH = 1L << 37;

  // open_flags of struct fuse_open_out.
  static final int FOPEN_DIRECT_IO = 1 << 0;
  static final int FOPEN_KEEP_CACHE = 1 << 1;
  static final int FOPEN_CACHE_DIR = 1 << 3;
  static final int FOPEN_PASSTHROUGH = 1 << 7;

  /** Interrupt requests carry this bit in their own unique id. */
  static final long INT_REQ_BIT = 1;

  // ioctls on /dev/fuse: _IOR(229, 0, uint32), _IOW(229, 1, struct fuse_backing_map),
  // _IOW(229, 2, uint32).
  static final long DEV_IOC_CLONE = 0x8004E500L;
  static final long DEV_IOC_BACKING_OPEN = 0x4010E501L;
  static final long DEV_IOC_BACKING_CLOSE = 0x4004E502L;

  private Protocol() {}

  static String opcodeName(int opcode) {
    return switch (opcode) {
      case LOOKUP -> "LOOKUP";
      case FORGET -> "FORGET";
      case GETATTR -> "GETATTR";
      case READLINK -> "READLINK";
      case OPEN -> "OPEN";
      case READ -> "READ";
      case STATFS -> "STATFS";
      case RELEASE -> "RELEASE";
      case GETXATTR -> "GETXATTR";
      case LISTXATTR -> "LISTXATTR";
      case INIT -> "INIT";
      case OPENDIR -> "OPENDIR";
      case READDIR -> "READDIR";
      case RELEASEDIR -> "RELEASEDIR";
      case ACCESS -> "ACCESS";
      case INTERRUPT -> "INTERRUPT";
      case DESTROY -> "DESTROY";
      case BATCH_FORGET -> "BATCH_FORGET";
      case READDIRPLUS -> "READDIRPLUS";
      case LSEEK -> "LSEEK";
      default -> "opcode " + opcode;
    };
  }
}
