using System;
using System.IO;

namespace NenAi.TestSupport
{
    /// <summary>
    /// A folder in which this account may not make anything (access denied), for the -Destination a scheduled task's
    /// account has no write permission on. Tests here run as root, and root ignores permission bits (it writes into a
    /// folder of mode 0555), so as root it is a path under /sys: sysfs refuses to make folders for everyone, root
    /// included (EPERM, which .NET reports as UnauthorizedAccessException, as it reports Windows' access denied). As
    /// another account it is a folder of its own with mode 0555. Where neither refuses with access denied,
    /// <see cref="Unavailable"/> says why and the tests that need it are skipped with that reason.
    /// </summary>
    public sealed class DeniedFolder : IDisposable
    {
        private static readonly Lazy<string?> Probe = new Lazy<string?>(TryOnce);
        private readonly bool _own;

        private DeniedFolder(string path, bool own)
        {
            Path = path;
            _own = own;
        }

        /// <summary>The folder (under /sys it does not exist, and cannot be made).</summary>
        public string Path { get; }

        /// <summary>Null when such a folder can be had here; otherwise why not.</summary>
        public static string? Unavailable => Probe.Value;

        public static DeniedFolder Create()
        {
            if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("DeniedFolder needs Linux.");
            if (IsRoot()) return new DeniedFolder("/sys/nenai-denied-" + Guid.NewGuid().ToString("N").Substring(0, 8), own: false);
            string path = Directory.CreateTempSubdirectory("nenai-denied-").FullName;
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            return new DeniedFolder(path, own: true);
        }

        public void Dispose()
        {
            if (!_own || !OperatingSystem.IsLinux()) return;
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(Path, recursive: true);
        }

        private static bool IsRoot() => Environment.UserName == "root";

        private static string? TryOnce()
        {
            if (!OperatingSystem.IsLinux()) return "a folder that denies access is made here on Linux only";
            using DeniedFolder folder = Create();
            try
            {
                Directory.CreateDirectory(System.IO.Path.Combine(folder.Path, "probe"));
                return $"'{folder.Path}' did not deny making a folder in it";
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
            catch (IOException ex)
            {
                return $"'{folder.Path}' refused a folder with '{ex.Message}', not access denied";
            }
        }
    }
}
