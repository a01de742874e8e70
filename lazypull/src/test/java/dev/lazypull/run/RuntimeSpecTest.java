package dev.lazypull.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuntimeSpecTest {
  private static final ContainerConfig IMAGE =
      new ContainerConfig(
          List.of("/entry"), List.of("default", "args"), List.of("A=1", "PATH=/img"), "/srv", "");
  private static final ProcessUser ROOT = new ProcessUser(0, 0, List.of(), "/root");

  private static RunOptions options(String entrypoint, List<String> args, List<String> env) {
    return new RunOptions(entrypoint, args, env, null, null, List.of(), false, false);
  }

  @Test
  void processArgs_imageEntrypointAndCmd() {
    assertThat(RuntimeSpec.processArgs(IMAGE, options(null, List.of(), List.of())))
        .containsExactly("/entry", "default", "args");
  }

  @Test
  void processArgs_argsReplaceCmdOnly() {
    assertThat(RuntimeSpec.processArgs(IMAGE, options(null, List.of("x"), List.of())))
        .containsExactly("/entry", "x");
  }

  @Test
  void processArgs_entrypointOverrideDropsImageCmd() {
    assertThat(RuntimeSpec.processArgs(IMAGE, options("/bin/sh", List.of(), List.of())))
        .containsExactly("/bin/sh");
    assertThat(RuntimeSpec.processArgs(IMAGE, options("", List.of("ls"), List.of())))
        .containsExactly("ls");
  }

  @Test
  void processArgs_nothingToRunIsAnError() {
    var empty = new ContainerConfig(List.of(), List.of(), List.of(), "", "");
    assertThatThrownBy(() -> RuntimeSpec.processArgs(empty, options(null, List.of(), List.of())))
        .hasMessageContaining("give a command after --");
  }

  @Test
  void processEnv_overridesByKeyAndFillsDefaults() {
    var env =
        RuntimeSpec.processEnv(
            IMAGE,
            options(null, List.of(), List.of("A=2", "FROM_HOST", "MISSING")),
            ROOT,
            Map.of("FROM_HOST", "h"));
    assertThat(env).containsExactly("A=2", "PATH=/img", "FROM_HOST=h", "HOME=/root");
  }

  @Test
  void build_namespacesAndNetwork() {
    var spec =
        new RuntimeSpec()
            .build(IMAGE, options(null, List.of(), List.of()), ROOT, "/r", "h", Map.of());
    assertThat(spec.at("/linux/namespaces").findValuesAsText("type"))
        .containsExactly("pid", "ipc", "uts", "mount");
    assertThat(spec.at("/process/cwd").asText()).isEqualTo("/srv");
    var none =
        new RuntimeSpec()
            .build(
                IMAGE,
                new RunOptions(
                    null, List.of(), List.of(), "/w", null, List.of("/a:/b:ro"), true, true),
                ROOT,
                "/r",
                "h",
                Map.of());
    assertThat(none.at("/linux/namespaces").findValuesAsText("type")).contains("network");
    assertThat(none.at("/process/terminal").asBoolean()).isTrue();
    assertThat(none.at("/process/cwd").asText()).isEqualTo("/w");
    assertThat(none.toString()).contains("\"destination\":\"/b\"").contains("\"ro\"");
  }

  @Test
  void build_badBindIsRefused() {
    var opts =
        new RunOptions(null, List.of(), List.of(), null, null, List.of("justone"), false, false);
    assertThatThrownBy(() -> new RuntimeSpec().build(IMAGE, opts, ROOT, "/r", "h", Map.of()))
        .hasMessageContaining("SRC:DST");
  }

  @Test
  void build_bindDestinationRelativeIsRefused() {
    var opts =
        new RunOptions(
            null, List.of(), List.of(), null, null, List.of("/etc:relative"), false, false);
    assertThatThrownBy(() -> new RuntimeSpec().build(IMAGE, opts, ROOT, "/r", "h", Map.of()))
        .hasMessageContaining("'/etc:relative'")
        .hasMessageContaining("absolute");
  }

  @Test
  void build_workdirRelativeIsRefused() {
    var opts =
        new RunOptions(null, List.of(), List.of(), "relative", null, List.of(), false, false);
    assertThatThrownBy(() -> new RuntimeSpec().build(IMAGE, opts, ROOT, "/r", "h", Map.of()))
        .hasMessageContaining("-w 'relative'");
  }

  @Test
  void processEnv_emptyNameIsRefused() {
    assertThatThrownBy(
            () ->
                RuntimeSpec.processEnv(
                    IMAGE, options(null, List.of(), List.of("=x")), ROOT, Map.of()))
        .hasMessageContaining("-e '=x'");
  }
}
