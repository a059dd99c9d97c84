/*
 * The API's tokens (server/tokens.h): a made token is granted exactly its scope and is stored
 * only as its SHA-256, in a 0600 file; names are unique and safe; a revoked token is seen
 * without reopening the book, and another one is not disturbed; a --token secret counts as
 * operate; a damaged file is refused at open and, written over a good one, keeps the tokens
 * known; only "Bearer <token>" is a credential.
 */
#include "test.h"

#include "common/cli.h"
#include "common/random.h"
#include "server/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The book looks at its file at most once a second. */
static void let_a_second_pass(void)
{
    struct timespec pause = {1, 100 * 1000000L};
    nanosleep(&pause, NULL);
}

static void test_tokens(void)
{
    char folder[] = "/tmp/cellota-tokens-XXXXXX", path[96], error[256], header[96];
    char viewer[TOKEN_TEXT_SIZE], pipeline[TOKEN_TEXT_SIZE], spare[TOKEN_TEXT_SIZE];
    host_random random;
    struct stat info;
    token_book *book;

    CHECK(mkdtemp(folder) != NULL);
    snprintf(path, sizeof(path), "%s/tokens", folder);
    CHECK_EQ_INT(host_random_open(&random, "test_server_tokens"), HOST_EXIT_OK);
    book = tokens_open(path, error, sizeof(error)); /* no file yet: no tokens */
    CHECK(book != NULL);
    if (!book)
        return;
    CHECK_EQ_INT(tokens_count(book), 0);
    CHECK_EQ_INT(tokens_create(path, TOKEN_READ, "viewer", &random, viewer), HOST_EXIT_OK);
    CHECK_EQ_INT(tokens_create(path, TOKEN_OPERATE, "pipeline", &random, pipeline), HOST_EXIT_OK);
    CHECK_EQ_INT(strlen(viewer), 64);
    CHECK(strcmp(viewer, pipeline) != 0);
    /* refused: a name in use, names the file could misread, a scope that is not one */
    CHECK_EQ_INT(tokens_create(path, TOKEN_READ, "viewer", &random, spare), HOST_EXIT_USAGE);
    CHECK_EQ_INT(tokens_create(path, TOKEN_READ, "two words", &random, spare), HOST_EXIT_USAGE);
    CHECK_EQ_INT(tokens_create(path, TOKEN_READ, "", &random, spare), HOST_EXIT_USAGE);
    CHECK_EQ_INT(tokens_create(path, TOKEN_NONE, "nothing", &random, spare), HOST_EXIT_USAGE);

    /* the file: 0600, hashes only */
    CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0600);
    FILE *file = fopen(path, "r");
    char text[1024] = "";
    if (file) {
        text[fread(text, 1, sizeof(text) - 1, file)] = '\0';
        fclose(file);
    }
    CHECK(strstr(text, viewer) == NULL && strstr(text, pipeline) == NULL);
    CHECK(strstr(text, " read viewer\n") != NULL && strstr(text, " operate pipeline\n") != NULL);

    /* seen by the open book within a second */
    let_a_second_pass();
    CHECK_EQ_INT(tokens_count(book), 2);
    CHECK_EQ_INT(tokens_check(book, viewer), TOKEN_READ);
    CHECK_EQ_INT(tokens_check(book, pipeline), TOKEN_OPERATE);
    snprintf(header, sizeof(header), "Bearer %s", viewer);
    CHECK_EQ_INT(tokens_check_header(book, header), TOKEN_READ);
    snprintf(header, sizeof(header), "bearer %s", viewer);
    CHECK_EQ_INT(tokens_check_header(book, header), TOKEN_NONE);
    snprintf(header, sizeof(header), "Bearer  %s", viewer);
    CHECK_EQ_INT(tokens_check_header(book, header), TOKEN_NONE);
    CHECK_EQ_INT(tokens_check_header(book, viewer), TOKEN_NONE);
    CHECK_EQ_INT(tokens_check_header(book, NULL), TOKEN_NONE);
    viewer[10] ^= 1;
    CHECK_EQ_INT(tokens_check(book, viewer), TOKEN_NONE);
    viewer[10] ^= 1;
    CHECK_EQ_INT(tokens_check(book, ""), TOKEN_NONE);

    /* a --token secret: operate, in memory only */
    tokens_add_secret(book, "given-on-the-command-line", TOKEN_OPERATE);
    CHECK_EQ_INT(tokens_check(book, "given-on-the-command-line"), TOKEN_OPERATE);

    /* revoked: gone within a second, the other token untouched */
    CHECK_EQ_INT(tokens_revoke(path, "viewer"), HOST_EXIT_OK);
    CHECK_EQ_INT(tokens_revoke(path, "viewer"), HOST_EXIT_FAILED);
    CHECK_EQ_INT(tokens_revoke(path, "view"), HOST_EXIT_FAILED);
    let_a_second_pass();
    CHECK_EQ_INT(tokens_check(book, viewer), TOKEN_NONE);
    CHECK_EQ_INT(tokens_check(book, pipeline), TOKEN_OPERATE);
    CHECK_EQ_INT(tokens_check(book, "given-on-the-command-line"), TOKEN_OPERATE);

    /* a damaged file over a good one: the tokens known stay; refused when opened */
    file = fopen(path, "a");
    if (file) {
        fputs("not a token line\n", file);
        fclose(file);
    }
    let_a_second_pass();
    CHECK_EQ_INT(tokens_check(book, pipeline), TOKEN_OPERATE);
    tokens_close(book);
    CHECK(tokens_open(path, error, sizeof(error)) == NULL);
    CHECK(strstr(error, "line 2") != NULL);

    /* from text: the same parser */
    book = tokens_from_text("\n", 1, error, sizeof(error));
    CHECK(book != NULL && tokens_count(book) == 0);
    tokens_close(book);
    CHECK(tokens_from_text("00 read a\n", 10, error, sizeof(error)) == NULL);

    host_random_close(&random);
    unlink(path);
    CHECK_EQ_INT(rmdir(folder), 0);
}

int main(void)
{
    RUN(test_tokens);
    return test_summary();
}
