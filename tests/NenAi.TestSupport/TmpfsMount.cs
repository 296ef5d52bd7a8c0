using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;

namespace NenAi.TestSupport
{
    /// <summary>
    /// A small file system of its own (Linux tmpfs), for the disk failures a user meets: full (ENOSPC once its size is
    /// used) or read-only (EROFS). Needs Linux and the right to mount (root, or CAP_SYS_ADMIN); where that is missing,
    /// <see cref="Unavailable"/> says why and the tests that need it are skipped with that reason.
    /// </summary>
    public sealed class TmpfsMount : IDisposable
    {
        private static readonly Lazy<string?> Probe = new Lazy<string?>(TryMountOnce);

        private TmpfsMount(string path) => Path = path;

        /// <summary>Where it is mounted.</summary>
        public string Path { get; }

        /// <summary>Null when tmpfs mounts work here; otherwise why not.</summary>
        public static string? Unavailable => Probe.Value;

        /// <summary>Mounts a tmpfs of <paramref name="sizeKiB"/> KiB (read-only when asked) on a new temporary folder.</summary>
        public static TmpfsMount Create(int sizeKiB, bool readOnly = false)
        {
            string path = Directory.CreateTempSubdirectory("nenai-tmpfs-").FullName;
            string? error = Mount(path, $"size={sizeKiB}k{(readOnly ? ",ro" : string.Empty)}");
            if (error != null)
            {
                Directory.Delete(path);
                throw new InvalidOperationException($"mount -t tmpfs failed: {error}");
            }
            return new TmpfsMount(path);
        }

        /// <summary>Fills the file system until it has no space left (a file of zeros).</summary>
        public void Fill()
        {
            using var filler = new FileStream(System.IO.Path.Combine(Path, "filler.bin"), FileMode.Create, FileAccess.Write);
            byte[] block = new byte[4096];
            try
            {
                while (true) filler.Write(block, 0, block.Length);
            }
            catch (IOException)
            {
                // ENOSPC: full, as intended.
            }
            try { filler.Dispose(); }
            catch (IOException) { }
        }

        /// <summary>Remounts it read-only (EROFS from now on), keeping what was written to it.</summary>
        public void MakeReadOnly()
        {
            if (Run("mount", "-o", "remount,ro", Path) is string error) throw new InvalidOperationException($"mount -o remount,ro failed: {error}");
        }

        public void Dispose()
        {
            Run("umount", "-l", Path);
            try { Directory.Delete(Path); }
            catch (IOException) { }
        }

        private static string? TryMountOnce()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return "tmpfs mounts need Linux";
            string path = Directory.CreateTempSubdirectory("nenai-tmpfs-probe-").FullName;
            try
            {
                string? error = Mount(path, "size=16k");
                if (error != null) return $"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {error}";
                Run("umount", "-l", path);
                return null;
            }
            finally
            {
                try { Directory.Delete(path); }
                catch (IOException) { }
            }
        }

        private static string? Mount(string path, string options) => Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path);

        /// <summary>Runs a command; null when it succeeded, else what it said.</summary>
        private static string? Run(string command, params string[] arguments)
        {
            var psi = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string argument in arguments) psi.ArgumentList.Add(argument);
            try
            {
                using Process process = Process.Start(psi)!;
                string error = process.StandardError.ReadToEnd();
                process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                return process.ExitCode == 0 ? null : $"exit {process.ExitCode}: {error.Trim()}";
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                return ex.Message;
            }
        }
    }
}
