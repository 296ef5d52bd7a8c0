using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using Xunit;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Runs a script in a child process hosting its own engine (see <see cref="Program"/>), optionally under a file-size
    /// limit: with <c>ulimit -f</c> and SIGXFSZ ignored, any file the module writes beyond the limit fails with the
    /// operating system's own EFBIG, the way a full disk or a quota does. Linux only.
    /// </summary>
    public static class ChildEngine
    {
        public static IReadOnlyList<ChildLine> Run(string script, IDictionary<string, string> environment, int? fileSizeLimitKiB, TimeSpan timeout)
        {
            string scriptFile = Path.Combine(Path.GetTempPath(), $"nenai-child-{Guid.NewGuid():N}.ps1");
            File.WriteAllText(scriptFile, script);
            try
            {
                string assembly = typeof(ChildEngine).Assembly.Location;
                string limit = fileSizeLimitKiB.HasValue ? $"ulimit -f {fileSizeLimitKiB.Value}; trap '' XFSZ; " : string.Empty;
                var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add($"{limit}exec dotnet exec \"{assembly}\" --run-script \"{scriptFile}\"");
                foreach (string name in ProcessEnvironment.NenVariables) psi.Environment.Remove(name);
                foreach (var (name, value) in environment) psi.Environment[name] = value;
                // The runtime's W^X double mapping needs large memory-backed files; a file-size limit would stop it starting.
                psi.Environment["DOTNET_EnableWriteXorExecute"] = "0";
                using Process process = Process.Start(psi)!;
                var stderr = process.StandardError.ReadToEndAsync();
                string stdout = process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit((int)timeout.TotalMilliseconds))
                {
                    process.Kill(entireProcessTree: true);
                    throw new TimeoutException($"The child engine did not finish within {timeout}.");
                }
                Assert.True(process.ExitCode == 0, $"the child engine exited with {process.ExitCode}: {stderr.Result}");
                return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Where(l => l.StartsWith("{", StringComparison.Ordinal))
                    .Select(l => JsonSerializer.Deserialize<ChildLine>(l)!).ToList();
            }
            finally
            {
                File.Delete(scriptFile);
            }
        }
    }

    /// <summary>A fact that needs Linux (ulimit, signals); elsewhere it is skipped with the reason.</summary>
    public sealed class LinuxFactAttribute : FactAttribute
    {
        public LinuxFactAttribute(string why)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) Skip = "Linux only: " + why;
        }
    }
}
