using System;
using System.IO;
using System.Threading;

namespace NenAi.Core.Files
{
    /// <summary>
    /// A file operation that a scanner or indexer may block for a moment (<see cref="FileErrors.IsBriefLock"/>) is tried
    /// again a few times, about 3 seconds in all; any other failure, or the same one after that, is thrown as it is.
    /// </summary>
    public static class FileRetry
    {
        private static readonly TimeSpan[] Delays =
        {
            TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200),
            TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(1500),
        };

        /// <summary>How many times an operation is tried at most.</summary>
        public static int MaxAttempts => Delays.Length + 1;

        /// <param name="wait">Waits between attempts (tests pass their own).</param>
        public static void Run(Action operation, Action<TimeSpan>? wait = null)
        {
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    operation();
                    return;
                }
                catch (Exception ex) when (attempt < Delays.Length && FileErrors.IsBriefLock(ex))
                {
                    (wait ?? Thread.Sleep)(Delays[attempt]);
                }
            }
        }

        /// <summary>
        /// Puts a finished file under its final name: File.Replace when one is there (a single step, so the name never
        /// points at nothing), a move otherwise.
        /// </summary>
        public static void MoveIntoPlace(string source, string target, Action<TimeSpan>? wait = null) => Run(() =>
        {
            if (File.Exists(target)) File.Replace(source, target, null, ignoreMetadataErrors: true);
            else File.Move(source, target);
        }, wait);

        /// <summary>Replaces the folder <paramref name="target"/> (if any) by <paramref name="source"/>.</summary>
        public static void MoveFolderIntoPlace(string source, string target, Action<TimeSpan>? wait = null)
        {
            Run(() => { if (Directory.Exists(target)) Directory.Delete(target, recursive: true); }, wait);
            Run(() => Directory.Move(source, target), wait);
        }
    }
}
