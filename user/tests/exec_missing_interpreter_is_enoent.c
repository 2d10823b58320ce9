/*
 * exec_missing_interpreter_is_enoent: execve of a program with a PT_INTERP
 * naming an interpreter that is not there (/lib/ld-linux-aarch64.so.1: the
 * test archive has none) fails with ENOENT, as Linux's load_elf_binary
 * does when open_exec of the interpreter fails; the caller goes on. The
 * program is /tests/elf_interp_missing--refused, hello with its PT_NOTE
 * made that PT_INTERP (scripts/corrupt-elf interp-missing). It used to be
 * ENOEXEC.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    char *argv[] = {"elf_interp_missing--refused", NULL};
    char *envp[] = {NULL};
    errno = 0;
    int r = execve("/tests/elf_interp_missing--refused", argv, envp);
    CHECK(r == -1 && errno == ENOENT, "execve of a program whose interpreter is missing returned %d, errno %d (%s); "
          "want ENOENT",
          r, errno, strerror(errno));
    printf("exec_missing_interpreter_is_enoent: execve failed with ENOENT, the caller goes on\n");
    return 0;
}
