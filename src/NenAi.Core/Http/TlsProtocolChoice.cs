using System;
using System.Net;
using System.Security.Authentication;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The TLS versions the .NET Framework build asks for on its own handler (never through the process-wide
    /// ServicePointManager). Only when the process default lacks TLS 1.2 (<see cref="For(SecurityProtocolType, bool, int?)"/>):
    /// powershell.exe names no target framework, so without the SchUseStrongCrypto or SystemDefaultTlsVersions registry
    /// values its default is SSL 3 and TLS 1.0. Otherwise nothing is pinned (SslProtocols.None: HttpClientHandler then
    /// leaves the request's protocols to ServicePointManager.SecurityProtocol, HttpWebRequest.cs 5136, and with its
    /// SystemDefault to Windows), so an administrator's TLS policy holds. When pinning: TLS 1.2 always, TLS 1.3 only where
    /// both sides of .NET Framework have it:
    /// <list type="bullet">
    /// <item>the runtime names it: 4.7.2's SslProtocols has no Tls13 and its HttpClientHandler refuses an unnamed
    /// bit (NotSupportedException from the setter); 4.8 added Tls13 = 12288;</item>
    /// <item>the operating system's SChannel has it: Windows Server 2022 / Windows 11 (build 20348) and later.
    /// Server 2016 (14393) and 2019 (17763) fail the credential handle with SEC_E_ALGORITHM_MISMATCH.</item>
    /// </list>
    /// Pure, so tests run it over (process default, runtime, OS build) triples the build server cannot be.
    /// </summary>
    public static class TlsProtocolChoice
    {
        /// <summary>TLS 1.3's value, the same on every runtime that has it.</summary>
        public const SslProtocols Tls13 = (SslProtocols)12288;
        /// <summary>The first Windows build whose SChannel negotiates TLS 1.3 (Windows Server 2022).</summary>
        public const int FirstWindowsBuildWithTls13 = 20348;

        /// <summary>TLS 1.2's value in SecurityProtocolType and SslProtocols alike.</summary>
        private const SecurityProtocolType Tls12 = (SecurityProtocolType)3072;

        /// <summary>
        /// What to ask for: <see cref="SslProtocols.None"/> (the process default, or Windows's when that is SystemDefault)
        /// when <paramref name="processDefault"/> is SystemDefault or has TLS 1.2; else what to pin (<see cref="ToPin"/>).
        /// </summary>
        /// <param name="processDefault">ServicePointManager.SecurityProtocol as this process has it.</param>
        public static SslProtocols For(SecurityProtocolType processDefault, bool runtimeNamesTls13, int? windowsBuild) =>
            processDefault == 0 || (processDefault & Tls12) != 0 ? SslProtocols.None : ToPin(runtimeNamesTls13, windowsBuild);

        /// <summary>The versions pinned where the process default lacks TLS 1.2.</summary>
        /// <param name="runtimeNamesTls13">The running SslProtocols enum defines 12288 (.NET Framework 4.8 and later).</param>
        /// <param name="windowsBuild">The Windows build number, or null off Windows (or when it cannot be told).</param>
        public static SslProtocols ToPin(bool runtimeNamesTls13, int? windowsBuild) =>
            runtimeNamesTls13 && windowsBuild >= FirstWindowsBuildWithTls13 ? SslProtocols.Tls12 | Tls13 : SslProtocols.Tls12;

        /// <summary>
        /// The choice for this process: its ServicePointManager.SecurityProtocol now (read, never written), the enum as
        /// loaded, and the OS version the process sees.
        /// </summary>
        public static SslProtocols ForThisProcess() =>
#pragma warning disable SYSLIB0014 // ServicePointManager: what .NET Framework's HttpWebRequest reads
            For(ServicePointManager.SecurityProtocol, RuntimeNamesTls13, WindowsBuild(Environment.OSVersion));
#pragma warning restore SYSLIB0014

        public static bool RuntimeNamesTls13 => Enum.IsDefined(typeof(SslProtocols), Tls13);

        /// <summary>
        /// The build of a Windows version; null elsewhere. A process without a Windows 10 manifest is told 6.2.9200,
        /// which simply keeps TLS 1.2 (the safe side).
        /// </summary>
        public static int? WindowsBuild(OperatingSystem os) =>
            os.Platform == PlatformID.Win32NT ? os.Version.Build : (int?)null;
    }
}
