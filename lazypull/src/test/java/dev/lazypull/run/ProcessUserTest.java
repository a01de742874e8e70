package dev.lazypull.run;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcessUserTest {
  private static final Map<String, byte[]> FILES =
      Map.of(
          "/etc/passwd",
          ("root:x:0:0:root:/root:/bin/sh\n"
                  + "app:x:1000:1001:App:/home/app:/bin/sh\n"
                  + "nobody:x:65534:65534::/nonexistent:/bin/false\n")
              .getBytes(UTF_8),
          "/etc/group",
          "root:x:0:\nstaff:x:50:app\napp:x:1001:\n".getBytes(UTF_8));

  private static ProcessUser resolve(String spec) throws Exception {
    return ProcessUser.resolve(spec, FILES::get);
  }

  @Test
  void resolve_emptyIsRoot() throws Exception {
    assertThat(resolve("")).isEqualTo(new ProcessUser(0, 0, java.util.List.of(), "/root"));
  }

  @Test
  void resolve_nameFromImagePasswdWithSupplementaryGroups() throws Exception {
    var user = resolve("app");
    assertThat(user.uid()).isEqualTo(1000);
    assertThat(user.gid()).isEqualTo(1001);
    assertThat(user.additionalGids()).containsExactly(50);
    assertThat(user.home()).isEqualTo("/home/app");
  }

  @Test
  void resolve_numericAndGroupName() throws Exception {
    assertThat(resolve("4242").uid()).isEqualTo(4242);
    assertThat(resolve("4242").gid()).isZero();
    assertThat(resolve("app:staff").gid()).isEqualTo(50);
    assertThat(resolve("1000:7").gid()).isEqualTo(7);
  }

  @Test
  void resolve_unknownNameIsAClearError() {
    assertThatThrownBy(() -> resolve("ghost")).hasMessageContaining("ghost");
    assertThatThrownBy(() -> resolve("app:ghosts")).hasMessageContaining("ghosts");
  }

  @Test
  void resolve_imageWithoutPasswdTakesNumbers() throws Exception {
    assertThat(ProcessUser.resolve("12:34", path -> null).gid()).isEqualTo(34);
  }
}
