/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Go programs under Wine 8.
 *
 * Go 1.22 and later fill their random numbers from ProcessPrng, which Windows 10+
 * exports from bcryptprimitives.dll. Wine 8 ships no such DLL, so a Go .exe dies at
 * start-up. This file exports ProcessPrng over BCryptGenRandom with the system
 * preferred RNG, which Wine does implement. It is test scaffolding only: it is copied
 * into a throw-away WINEPREFIX by scripts/test-windows.sh and never shipped.
 */
#include <windows.h>
#include <bcrypt.h>

/* ProcessPrng fills data with len random bytes. Like the Windows original it
 * reports success; BCryptGenRandom fails only on bad arguments, and then the
 * process has no sane way on, so it is stopped rather than handed weak bytes. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
            ExitProcess(2);
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
