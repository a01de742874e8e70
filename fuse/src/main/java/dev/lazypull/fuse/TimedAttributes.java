package dev.lazypull.fuse;

import java.time.Duration;

/** The answer to getattr: attributes and how long the kernel may cache them. */
public record TimedAttributes(Attributes attributes, Duration timeout) {}
