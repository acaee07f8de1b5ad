"""The WASI preview1 functions proxy-wasm hosts provide, with cpp-host's semantics.

They are linked under both wasi_snapshot_preview1 and wasi_unstable. There is no file system:
stdout and stderr go to the filter's log (info and error), the environment is the one the host
was configured with (not the process's), the clocks are the host's manual clock, and
proc_exit stops the filter (cpp-host logs it and returns, which hides the abort it signals).
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any

from wasmbuild.host.native import signed32
from wasmbuild.host.tables import LOG_LEVEL_VALUES, Errno

if TYPE_CHECKING:
    from wasmbuild.host.vm import FilterVm

_STDIO = (1, 2)
_IOVEC = struct.Struct("<II")
_RANDOM_MAX = 65536


def bind(vm: FilterVm) -> dict[str, Any]:
    """name -> implementation for each WASI function (the same for both module names)."""
    from wasmbuild.host.vm import ProcExit

    def mem() -> Any:
        return vm.memory

    def gather(iovs: int, count: int) -> bytes:
        raw = mem().read(iovs, 8 * count)
        return b"".join(mem().read(*_IOVEC.unpack_from(raw, 8 * i)) for i in range(count))

    def write_out(fd: int, iovs: int, count: int, nwritten_ptr: int) -> int:
        data = gather(iovs, count)
        mem().check_writable(nwritten_ptr, 4)
        if fd not in _STDIO:
            return Errno.BADF
        text = data.decode("utf-8", "replace")
        if text.endswith("\n"):
            text = text[:-1]
        if data:
            vm.log(LOG_LEVEL_VALUES["info" if fd == 1 else "error"], text)
        mem().write_u32(nwritten_ptr, len(data))
        return Errno.SUCCESS

    def fd_write(fd: int, iovs: int, count: int, nwritten_ptr: int) -> int:
        return write_out(fd, iovs, count, nwritten_ptr)

    def fd_pwrite(fd: int, iovs: int, count: int, _offset: int, nwritten_ptr: int) -> int:
        return write_out(fd, iovs, count, nwritten_ptr)

    def stdio_ok(fd: int, *_rest: int) -> int:
        return Errno.SUCCESS if fd in _STDIO else Errno.BADF

    def fd_fdstat_get(fd: int, stat_ptr: int) -> int:
        if fd not in _STDIO:
            return Errno.BADF
        mem().write(stat_ptr, struct.pack("<BxHxxxxQQ", 0, 0, 64, 0))  # rights_base = FD_WRITE
        return Errno.SUCCESS

    def fd_tell(fd: int, offset_ptr: int) -> int:
        if fd not in _STDIO:
            return Errno.BADF
        mem().write_u64(offset_ptr, 0)
        return Errno.SUCCESS

    def fd_readdir(_fd: int, _buf: int, _len: int, _cookie: int, nread_ptr: int) -> int:
        mem().write_u32(nread_ptr, 0)
        return Errno.NOTDIR

    def fd_renumber(fd: int, to: int) -> int:
        return Errno.NOTSUP if fd in _STDIO and to in _STDIO else Errno.BADF

    def fd_seek(_fd: int, _offset: int, _whence: int, _new_ptr: int) -> int:
        vm.notes.append(f"{vm.current_callback}: called WASI fd_seek, which proxy-wasm hosts do not implement")
        return Errno.SUCCESS

    def environ_pairs() -> list[bytes]:
        return [f"{k}={v}".encode() + b"\0" for k, v in vm.options.environ.items()]

    def environ_sizes_get(count_ptr: int, size_ptr: int) -> int:
        items = environ_pairs()
        mem().write_u32(count_ptr, len(items))
        mem().write_u32(size_ptr, sum(len(i) for i in items))
        return Errno.SUCCESS

    def environ_get(ptrs: int, buf: int) -> int:
        offset = buf
        for i, item in enumerate(environ_pairs()):
            mem().write_u32(ptrs + 4 * i, offset)
            mem().write(offset, item)
            offset += len(item)
        return Errno.SUCCESS

    def args_sizes_get(argc_ptr: int, size_ptr: int) -> int:
        mem().write_u32(argc_ptr, 0)
        mem().write_u32(size_ptr, 0)
        return Errno.SUCCESS

    def args_get(_argv: int, _buf: int) -> int:
        return Errno.SUCCESS

    def clock_time_get(clock_id: int, _precision: int, time_ptr: int) -> int:
        if clock_id == 0:
            mem().write_u64(time_ptr, vm.clock.realtime_ns)
        elif clock_id == 1:
            mem().write_u64(time_ptr, vm.clock.monotonic_ns)
        else:
            return Errno.NOTSUP
        return Errno.SUCCESS

    def clock_res_get(clock_id: int, res_ptr: int) -> int:
        if clock_id not in (0, 1):
            return Errno.NOTSUP
        mem().write_u64(res_ptr, 1)
        return Errno.SUCCESS

    def random_get(buf: int, length: int) -> int:
        if length > _RANDOM_MAX:
            return Errno.INVAL
        mem().write(buf, os.urandom(length))
        return Errno.SUCCESS

    def poll_oneoff(_in: int, _out: int, _n: int, nevents_ptr: int) -> int:
        mem().write_u32(nevents_ptr, 0)
        return Errno.SUCCESS

    def proc_exit(code: int) -> None:
        raise ProcExit(signed32(code))

    def path_readlink(_fd: int, _path: int, _len: int, _buf: int, _buf_len: int, nread_ptr: int) -> int:
        mem().write_u32(nread_ptr, 0)
        return Errno.NOTSUP

    def sock_accept(_fd: int, _flags: int, fd_ptr: int) -> int:
        mem().write_u32(fd_ptr, 0)
        return Errno.NOTSUP

    def sock_recv(_fd: int, _data: int, _len: int, _flags: int, nread_ptr: int, roflags_ptr: int) -> int:
        mem().write_u32(nread_ptr, 0)
        mem().write_u32(roflags_ptr, 0)
        return Errno.NOTSUP

    def sock_send(_fd: int, _data: int, _len: int, _flags: int, nwritten_ptr: int) -> int:
        mem().write_u32(nwritten_ptr, 0)
        return Errno.NOTSUP

    def const(value: int) -> Any:
        def impl(*_args: int) -> int:
            return value
        return impl

    return {
        "fd_write": fd_write, "fd_pwrite": fd_pwrite, "fd_read": const(Errno.NOSYS), "fd_pread": const(Errno.NOSYS),
        "fd_seek": fd_seek, "fd_close": const(Errno.SUCCESS), "fd_fdstat_get": fd_fdstat_get,
        "fd_fdstat_set_flags": const(Errno.NOSYS), "fd_fdstat_set_rights": stdio_ok,
        "environ_get": environ_get, "environ_sizes_get": environ_sizes_get,
        "args_get": args_get, "args_sizes_get": args_sizes_get,
        "clock_time_get": clock_time_get, "clock_res_get": clock_res_get,
        "fd_advise": const(Errno.SUCCESS), "fd_allocate": stdio_ok, "fd_datasync": stdio_ok,
        "fd_filestat_get": const(Errno.BADF), "fd_filestat_set_size": stdio_ok, "fd_filestat_set_times": stdio_ok,
        "fd_readdir": fd_readdir, "fd_renumber": fd_renumber, "fd_sync": stdio_ok, "fd_tell": fd_tell,
        "fd_prestat_get": const(Errno.BADF), "fd_prestat_dir_name": const(Errno.NOSYS),
        "path_open": const(Errno.NOENT), "path_create_directory": const(Errno.NOTSUP),
        "path_filestat_get": const(Errno.NOTSUP), "path_filestat_set_times": const(Errno.NOTSUP),
        "path_link": const(Errno.NOTSUP), "path_readlink": path_readlink,
        "path_remove_directory": const(Errno.NOTSUP), "path_rename": const(Errno.NOTSUP),
        "path_symlink": const(Errno.NOTSUP), "path_unlink_file": const(Errno.NOTSUP),
        "poll_oneoff": poll_oneoff, "proc_exit": proc_exit, "random_get": random_get,
        "sched_yield": const(Errno.SUCCESS), "sock_accept": sock_accept, "sock_recv": sock_recv,
        "sock_send": sock_send, "sock_shutdown": const(Errno.NOTSUP),
    }
