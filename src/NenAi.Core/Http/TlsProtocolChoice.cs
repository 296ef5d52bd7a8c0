using System;
using System.Security.Authentication;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The TLS versions the .NET Framework build asks for on its own handler (never through the process-wide
    /// ServicePointManager). TLS 1.2 always: Windows PowerShell 5.1 without the SchUseStrongCrypto keys would offer
    /// none. TLS 1.3 only where both sides of .NET Framework have it:
    /// <list type="bullet">
    /// <item>the runtime names it: 4.7.2's SslProtocols has no Tls13 and its HttpClientHandler refuses an unnamed
    /// bit (NotSupportedException from the setter); 4.8 added Tls13 = 12288;</item>
    /// <item>the operating system's SChannel has it: Windows Server 2022 / Windows 11 (build 20348) and later.
    /// Server 2016 (14393) and 2019 (17763) fail the credential handle with SEC_E_ALGORITHM_MISMATCH.</item>
    /// </list>
    /// Pure, so tests run it over (runtime, OS build) pairs the build server cannot be.
    /// </summary>
    public static class TlsProtocolChoice
    {
        /// <summary>TLS 1.3's value, the same on every runtime that has it.</summary>
        public const SslProtocols Tls13 = (SslProtocols)12288;
        /// <summary>The first Windows build whose SChannel negotiates TLS 1.3 (Windows Server 2022).</summary>
        public const int FirstWindowsBuildWithTls13 = 20348;

        /// <param name="runtimeNamesTls13">The running SslProtocols enum defines 12288 (.NET Framework 4.8 and later).</param>
        /// <param name="windowsBuild">The Windows build number, or null off Windows (or when it cannot be told).</param>
        public static SslProtocols For(bool runtimeNamesTls13, int? windowsBuild) =>
            runtimeNamesTls13 && windowsBuild >= FirstWindowsBuildWithTls13 ? SslProtocols.Tls12 | Tls13 : SslProtocols.Tls12;

        /// <summary>The choice for this process: the enum as loaded, and the OS version the process sees.</summary>
        public static SslProtocols ForThisProcess() => For(RuntimeNamesTls13, WindowsBuild(Environment.OSVersion));

        public static bool RuntimeNamesTls13 => Enum.IsDefined(typeof(SslProtocols), Tls13);

        /// <summary>
        /// The build of a Windows version; null elsewhere. A process without a Windows 10 manifest is told 6.2.9200,
        /// which simply keeps TLS 1.2 (the safe side).
        /// </summary>
        public static int? WindowsBuild(OperatingSystem os) =>
            os.Platform == PlatformID.Win32NT ? os.Version.Build : (int?)null;
    }
}
