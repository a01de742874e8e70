package dev.lazypull.cli;

import picocli.CommandLine.Command;

/** {@code lazypull ztoc ...}: build, inspect and use SOCI zTOCs of local layer files. */
@Command(
    name = "ztoc",
    mixinStandardHelpOptions = true,
    description = "Build, inspect and read through SOCI zTOCs.",
    subcommands = {ZtocCreateCommand.class, ZtocInfoCommand.class, ZtocGetFileCommand.class})
public final class ZtocCommand {}
