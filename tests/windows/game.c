/* A stand-in for Rocket League saving a replay on Windows, for the Wine tests:
 *
 *   game write SRC DEST CHUNKS PAUSE_MS   copies SRC to DEST (created under its final name),
 *       holding DEST open with share mode 0 (no reading, writing or deleting by others) while
 *       it writes CHUNKS pieces PAUSE_MS apart, then closes it;
 *   game replace SRC DEST                 writes SRC to DEST.tmp, then renames it over DEST
 *       with MoveFileExW(MOVEFILE_REPLACE_EXISTING), as an in-game rename rewrites a replay.
 *
 * Prints "open" once DEST is held and "closed" when done; exits 0, or 1 with the failing call. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "%s failed: %lu\n", what, (unsigned long)GetLastError());
    return 1;
}

static char *slurp(const wchar_t *path, DWORD *size)
{
    HANDLE in = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (in == INVALID_HANDLE_VALUE)
        return NULL;
    *size = GetFileSize(in, NULL);
    char *buf = malloc(*size ? *size : 1);
    DWORD got = 0;
    if (!buf || !ReadFile(in, buf, *size, &got, NULL) || got != *size) {
        CloseHandle(in);
        return NULL;
    }
    CloseHandle(in);
    return buf;
}

static int write_held(const wchar_t *dest, const char *buf, DWORD size, int chunks, int pause)
{
    HANDLE out = CreateFileW(dest, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (out == INVALID_HANDLE_VALUE)
        return fail("CreateFileW");
    printf("open\n");
    fflush(stdout);
    DWORD step = (size + chunks - 1) / chunks, done = 0;
    while (done < size) {
        DWORD n = size - done < step ? size - done : step, wrote = 0;
        if (!WriteFile(out, buf + done, n, &wrote, NULL) || wrote != n)
            return fail("WriteFile");
        FlushFileBuffers(out);
        done += n;
        if (done < size)
            Sleep(pause);
    }
    CloseHandle(out);
    return 0;
}

int wmain(int argc, wchar_t **argv)
{
    DWORD size = 0;
    if (argc == 6 && !wcscmp(argv[1], L"write")) {
        char *buf = slurp(argv[2], &size);
        if (!buf)
            return fail("reading the source");
        if (write_held(argv[3], buf, size, _wtoi(argv[4]), _wtoi(argv[5])))
            return 1;
    } else if (argc == 4 && !wcscmp(argv[1], L"replace")) {
        char *buf = slurp(argv[2], &size);
        if (!buf)
            return fail("reading the source");
        wchar_t tmp[MAX_PATH + 8];
        _snwprintf(tmp, MAX_PATH + 8, L"%ls.tmp", argv[3]);
        if (write_held(tmp, buf, size, 1, 0))
            return 1;
        if (!MoveFileExW(tmp, argv[3], MOVEFILE_REPLACE_EXISTING))
            return fail("MoveFileExW");
    } else {
        fprintf(stderr, "usage: game write SRC DEST CHUNKS PAUSE_MS | game replace SRC DEST\n");
        return 2;
    }
    printf("closed\n");
    return 0;
}
