/* The SIM7600's file system (in memory and in a directory) and its HTTP client against a small
 * HTTP server in the test: writing, listing, reading back by offset, deleting; GET with a
 * length and chunked, HTTPREAD by offset, HTTPREADFILE into the file system, errors. */
#include "modem_harness.h"

#include <dirent.h>
#include <sys/stat.h>

static void start(harness *h, const char *directory)
{
    modem_emulator_options options;
    modem_emulator_default_options(&options);
    options.quirk_rate = 0;
    options.fs_dir = directory;
    harness_start(h, MODEM_MODEL_SIM7600, &options);
}

static void exercise_files(harness *h)
{
    uint8_t *data = test_pattern(5000), back[5000];
    CHECK(harness_ready(h));
    CHECK(harness_command(h, "AT+FSCD=C:", "\r\n+FSCD: C:/\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(h, "AT+FSCD=E:", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(h, "AT+CFTRANRX=\"c:/image.bin\",5000", "\r\n>", 1000));
    harness_send_bytes(h, data, 5000);
    CHECK(harness_wait_for(h, "\r\nOK\r\n", 2000));
    CHECK(harness_command(h, "AT+CFTRANRX=\"c:/note.txt\",5", ">", 1000));
    harness_send(h, "hello");
    CHECK(harness_wait_for(h, "\r\nOK\r\n", 1000));
    /* append at an offset */
    CHECK(harness_command(h, "AT+CFTRANRX=\"c:/note.txt\",6,5", ">", 1000));
    harness_send(h, " world");
    CHECK(harness_wait_for(h, "\r\nOK\r\n", 1000));
    CHECK(harness_command(h, "AT+CFTRANRX=\"c:/note.txt\",1,99", "\r\nERROR\r\n", 1000));
    CHECK(
        harness_command(h, "AT+FSLS", "\r\n+FSLS: SUBDIRECTORIES:\r\n\r\n+FSLS: FILES:\r\n", 1000));
    CHECK(harness_wait_for(h, "\r\n\r\nOK\r\n", 100));
    CHECK(find_bytes(h->output, h->length, "image.bin\r\n") != NULL);
    CHECK(find_bytes(h->output, h->length, "note.txt\r\n") != NULL);
    CHECK(harness_command(h, "AT+FSATTRI=note.txt", "\r\n+FSATTRI: 11,", 1000));
    CHECK(harness_command(h, "AT+FSMEM", "\r\n+FSMEM: C:(8388608,5011)\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(h, "AT+CFTRANTX=\"c:/note.txt\"",
                          "\r\n+CFTRANTX: DATA,11\r\nhello world\r\n\r\n+CFTRANTX: 0\r\n\r\nOK\r\n",
                          1000));
    /* read back by offset and length, in the blocks the modem uses */
    CHECK(harness_command(h, "AT+CFTRANTX=\"c:/image.bin\",1000,3000",
                          "\r\n+CFTRANTX: DATA,2048\r\n", 2000));
    CHECK(harness_take(h, back, 2048, 1000));
    CHECK(harness_wait_for(h, "\r\n\r\n+CFTRANTX: DATA,952\r\n", 1000));
    CHECK(harness_take(h, back + 2048, 952, 1000));
    CHECK_EQ_MEM(back, data + 1000, 3000);
    CHECK(harness_wait_for(h, "\r\n\r\n+CFTRANTX: 0\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(h, "AT+CFTRANTX=\"c:/image.bin\",5001", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(h, "AT+FSRENAME=note.txt,greeting.txt", "\r\nOK\r\n", 1000));
    CHECK(harness_command(h, "AT+FSDEL=note.txt", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(h, "AT+FSDEL=greeting.txt", "\r\nOK\r\n", 1000));
    CHECK(harness_command(h, "AT+CFTRANTX=\"c:/greeting.txt\"", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(h, "AT+CFTRANRX=\"c:/big\",9000000", "\r\n+CME ERROR: memory full\r\n",
                          1000));
    CHECK(harness_command(h, "AT+CFTRANRX=\"c:/../escape\",1", "\r\nERROR\r\n", 1000));
    free(data);
}

static void test_memory_file_system(void)
{
    harness h;
    start(&h, NULL);
    exercise_files(&h);
    harness_stop(&h);
}

static void test_directory_file_system(void)
{
    harness h;
    char directory[] = "/tmp/cellota-fs-XXXXXX", path[128];
    struct stat status;
    CHECK(mkdtemp(directory) != NULL);
    start(&h, directory);
    exercise_files(&h);
    harness_stop(&h);
    snprintf(path, sizeof(path), "%s/image.bin", directory);
    CHECK(stat(path, &status) == 0 && status.st_size == 5000);
    unlink(path);
    rmdir(directory);
}

static char response[80000];

static void serve(test_server *server, const char *head, const uint8_t *body, size_t length)
{
    size_t head_length = strlen(head);
    memcpy(response, head, head_length);
    memcpy(response + head_length, body, length);
    server->payload = (const uint8_t *)response;
    server->payload_length = head_length + length;
    server->wait_for_request = true;
    server->close_after = true;
}

static void test_http_get(void)
{
    harness h;
    test_server server;
    uint8_t *body = test_pattern(70000), back[1024];
    char line[160], head[128];
    size_t offset;
    server_start(&server);
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\nServer: test\r\n\r\n");
    serve(&server, head, body, 70000);
    start(&h, NULL);
    h.server = &server;
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+HTTPPARA=\"URL\",\"http://x\"", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+HTTPINIT", "\r\nOK\r\n", 1000));
    snprintf(line, sizeof(line), "AT+HTTPPARA=\"URL\",\"http://127.0.0.1:%u/firmware.bin\"",
             server.port);
    CHECK(harness_command(&h, line, "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+HTTPPARA=\"USERDATA\",\"Range: bytes=0-\"", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+HTTPACTION=0", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+HTTPACTION: 0,200,70000\r\n", 5000));
    CHECK(find_bytes((const uint8_t *)server.received, server.received_length,
                     "GET /firmware.bin HTTP/1.1\r\n") != NULL);
    CHECK(find_bytes((const uint8_t *)server.received, server.received_length,
                     "\r\nRange: bytes=0-\r\n\r\n") != NULL);
    CHECK(harness_command(&h, "AT+HTTPREAD?", "\r\n+HTTPREAD: LEN,70000\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+HTTPHEAD", "\r\n+HTTPHEAD: 56\r\nHTTP/1.1 200 OK\r\n", 1000));
    /* read a piece in the middle: blocks of 1024 with their headers */
    CHECK(harness_command(&h, "AT+HTTPREAD=60000,1500", "\r\nOK\r\n\r\n+HTTPREAD: DATA,1024\r\n",
                          1000));
    CHECK(harness_take(&h, back, 1024, 1000));
    CHECK_EQ_MEM(back, body + 60000, 1024);
    CHECK(harness_wait_for(&h, "\r\n+HTTPREAD: DATA,476\r\n", 1000));
    CHECK(harness_take(&h, back, 476, 1000));
    CHECK_EQ_MEM(back, body + 61024, 476);
    CHECK(harness_wait_for(&h, "\r\n+HTTPREAD: 0\r\n", 1000));
    /* and the whole body through the file system */
    CHECK(harness_command(&h, "AT+HTTPREADFILE=\"fw.bin\"", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+HTTPREADFILE: 0\r\n", 1000));
    CHECK(harness_command(&h, "AT+FSATTRI=fw.bin", "+FSATTRI: 70000,", 1000));
    for (offset = 0; offset < 70000; offset += 7000) {
        snprintf(line, sizeof(line), "AT+CFTRANTX=\"c:/fw.bin\",%zu,1", offset);
        CHECK(harness_command(&h, line, "\r\n+CFTRANTX: DATA,1\r\n", 1000));
        CHECK(harness_take(&h, back, 1, 1000));
        CHECK(back[0] == body[offset]);
    }
    CHECK(harness_command(&h, "AT+HTTPTERM", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+HTTPTERM", "\r\nERROR\r\n", 1000));
    free(body);
    harness_stop(&h);
    server_stop(&server);
}

static void test_http_chunked_and_errors(void)
{
    harness h;
    test_server server;
    char line[160];
    static const char chunked[] = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    uint16_t port;
    server_start(&server);
    server.payload = (const uint8_t *)chunked;
    server.payload_length = strlen(chunked);
    server.wait_for_request = true;
    server.close_after = true;
    start(&h, NULL);
    h.server = &server;
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+HTTPINIT", "\r\nOK\r\n", 1000));
    snprintf(line, sizeof(line), "AT+HTTPPARA=\"URL\",\"127.0.0.1:%u/missing\"", server.port);
    CHECK(harness_command(&h, line, "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+HTTPACTION=0", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+HTTPACTION: 0,404,12\r\n", 5000));
    CHECK(harness_command(&h, "AT+HTTPREAD=0,100",
                          "\r\n+HTTPREAD: DATA,12\r\nhello, world\r\n+HTTPREAD: 0\r\n", 1000));
    port = server.port;
    server_stop(&server);
    h.server = NULL;
    snprintf(line, sizeof(line), "AT+HTTPPARA=\"URL\",\"http://127.0.0.1:%u/\"", port);
    CHECK(harness_command(&h, line, "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+HTTPACTION=0", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+HTTPACTION: 0,714,0\r\n", 5000));
    CHECK(harness_command(&h, "AT+HTTPPARA=\"URL\",\"http://no.such.host.invalid/\"", "OK", 1000));
    CHECK(harness_command(&h, "AT+HTTPACTION=0", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+HTTPACTION: 0,713,0\r\n", 5000));
    CHECK(harness_command(&h, "AT+HTTPREAD=0,10", "\r\nERROR\r\n", 1000));
    harness_stop(&h);
}

int main(void)
{
    RUN(test_memory_file_system);
    RUN(test_directory_file_system);
    RUN(test_http_get);
    RUN(test_http_chunked_and_errors);
    return test_summary();
}
