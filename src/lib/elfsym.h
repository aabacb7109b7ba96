/* SPDX-License-Identifier: GPL-2.0 */
/* Functions of an ELF file by name, as the file offsets a uprobe is attached at. */
#ifndef MEMSCOPE_ELFSYM_H
#define MEMSCOPE_ELFSYM_H

#include <stdint.h>

/*
 * For each of the n names, the file offset of the function the file defines under
 * that name (its .symtab or .dynsym), 0 when it defines none. Returns how many it
 * found, -1 when the file cannot be read (errno) or is no ELF file (ENOEXEC).
 */
int elf_func_offsets(const char *path, const char *const *names, int n, uint64_t *offsets);

#endif
