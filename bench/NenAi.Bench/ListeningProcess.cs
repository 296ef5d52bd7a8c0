using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace NenAi.Bench
{
    /// <summary>
    /// A server the bench starts in a process of its own (the emulator, the Python fake): both print
    /// "... listening on &lt;url&gt;" as their first line, and both live in this repository.
    /// </summary>
    internal static class ListeningProcess
    {
        private const string Marker = "listening on ";

        /// <summary>Starts it and waits for its first line; <paramref name="name"/> says what did not start.</summary>
        public static (Process Process, Uri BaseUri) Start(string program, string[] arguments, string name)
        {
            var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in arguments) psi.ArgumentList.Add(a);
            Process process = Process.Start(psi) ?? throw new InvalidOperationException($"{name} did not start.");
            string? line = process.StandardOutput.ReadLine();
            if (line is null || !line.Contains(Marker)) { process.Kill(); throw new InvalidOperationException($"{name} did not start: " + line); }
            // Keep draining its output so it never blocks on a full pipe.
            _ = Task.Run(() => process.StandardOutput.ReadToEnd());
            return (process, new Uri(line.Substring(line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length).Trim() + "/"));
        }

        /// <summary>The repository's top folder: the one above the bench that holds NenAi.sln.</summary>
        public static string RepositoryRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "NenAi.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new FileNotFoundException("NenAi.sln not found above the bench");
        }
    }
}
