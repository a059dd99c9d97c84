/*
 * TCP_CORK made a no-op in every program that serves images: the fix bench/images.sh's profile
 * called for.
 *
 * libmicrohttpd 0.9.75 sends a file with sendfile calls of at most 128 KiB, and when an answer
 * needs more than one it corks the socket (TCP_CORK) before the first and pushes the rest with
 * TCP_NODELAY after the last. Measured on this kernel over loopback with everything else equal,
 * a corked socket costs about three times the CPU per 512 KiB answer (190-220 us against 60-70;
 * nginx with `tcp_nopush on`, which corks the same way, costs the same), and a device resuming
 * a download asks for exactly such answers. The cork buys nothing here: sendfile hands the
 * kernel whole segments already, and MHD sets TCP_NODELAY to push the end.
 *
 * A cork is only a hint about segment boundaries -- the bytes and their order are the same
 * without it -- so this definition, found by the dynamic linker before the C library's, answers
 * every TCP_CORK request with success and leaves the socket as it is. Every other option goes
 * to the kernel unchanged. It is its own library, cellota_tcp_cork, linked only into the
 * programs that serve images (cellota-server, cellota-images-harness) and test_server_images,
 * which checks it (CMake asks the linker for the symbol). Not into cellota_images, which every
 * test links: replacing setsockopt there changed it in the modem emulator's tests and every
 * other program that never serves an image.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int setsockopt(int socket, int level, int option, const void *value, socklen_t length)
{
    if (level == IPPROTO_TCP && option == TCP_CORK)
        return 0;
    return (int)syscall(SYS_setsockopt, socket, level, option, value, length);
}
