/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the BPF programs and user space. */
#ifndef MEMSCOPE_COMM_H
#define MEMSCOPE_COMM_H

/* A task's command name: the kernel's TASK_COMM_LEN, NUL included. */
#define MS_COMM_LEN 16

#endif
