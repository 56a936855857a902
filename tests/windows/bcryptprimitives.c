/* Test-only stand-in for bcryptprimitives.dll, which Wine 8 lacks: Rust's std (1.78+) asks
 * it for random bytes (ProcessPrng) and exits with code 53 when it is missing. Built with
 * mingw by tests/support/windows.rs and put beside the exe under test; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom, advapi32 */

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
