using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using NenAi.Core.Errors;
using NenAi.Core.Files;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Where each result of one run goes, and where its working files go, decided before anything is written so that
    /// no name the service chooses can shadow, delete or be mistaken for another:
    /// <list type="bullet">
    /// <item>results keep their names, compared as Windows compares them: a name that differs from an earlier result
    /// of the run only in case (Report.csv, report.csv) is refused (<see cref="NenErrorIds.ResultNameConflict"/>);</item>
    /// <item>working files (the part downloaded so far, its validator, an archive being unpacked) live in the folder
    /// <see cref="WorkFolderName"/>, a name no result may have, under names made from a hash of the result's name;</item>
    /// <item>an archive unpacks into a folder named after it that is no result's name (".zip" and "a.zip" beside a
    /// result "a" included), never the run folder itself;</item>
    /// <item>every path is checked against the process's <see cref="PathLimit"/> first.</item>
    /// </list>
    /// </summary>
    public sealed class RunFolderLayout
    {
        /// <summary>The run folder's working folder; a result with this name (in any case) is refused.</summary>
        public const string WorkFolderName = ".nenai";
        private readonly string _messageId;
        private readonly PathLimit _paths;
        private readonly HashSet<string> _taken;
        private readonly IReadOnlyList<string?> _names;
        /// <summary>Each name (as Windows compares names) → where the run first lists it.</summary>
        private readonly Dictionary<string, int> _first = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, string> _expandFolders = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <param name="resultNames">Every result of the run, in the order the service listed them.</param>
        public RunFolderLayout(string runFolder, string messageId, IReadOnlyList<string?> resultNames, PathLimit paths)
        {
            RunFolder = paths.FullPath(runFolder, folder: true, $"the folder of run {messageId}");
            WorkFolder = Path.Combine(RunFolder, WorkFolderName);
            _messageId = messageId;
            _paths = paths;
            _taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { WorkFolderName };
            _names = resultNames;
            for (int i = 0; i < resultNames.Count; i++)
            {
                string? name = resultNames[i];
                if (name is null) continue;
                _taken.Add(name);
                if (!_first.ContainsKey(name)) _first[name] = i;
            }
        }

        public string RunFolder { get; }
        public string WorkFolder { get; }

        /// <summary>
        /// The final path of the run's result number <paramref name="index"/>; throws for an unsafe or reserved name, a
        /// name an earlier result has (ignoring case), or a path too long for this process (its working files included).
        /// </summary>
        public string TargetOf(int index)
        {
            string name = SafeFileName.Validate(_names[index]);
            if (string.Equals(name, WorkFolderName, StringComparison.OrdinalIgnoreCase))
                throw new NenException(NenErrorIds.UnsafeFileName, NenErrorCategory.SecurityError,
                    $"Refusing the file name '{SafeFileName.Printable(name)}': the module keeps its working files under that name.");
            string first = _names[_first[name]]!;
            if (_first[name] != index)
                throw new NenException(NenErrorIds.ResultNameConflict, NenErrorCategory.ResourceExists,
                    first == name
                        ? $"Run {_messageId} lists the result '{SafeFileName.Printable(name)}' twice; only the first was saved."
                        : $"The result '{SafeFileName.Printable(name)}' of run {_messageId} was not saved: its name differs from the result '{SafeFileName.Printable(first)}' only in case, and on Windows both would be one file.");
            string what = $"the result '{SafeFileName.Printable(name)}' of run {_messageId}";
            _paths.Check(RunFolder, folder: true, $"the folder of run {_messageId}");
            string target = SafeFileName.Combine(RunFolder, name, _paths, what);
            _paths.Check(PartialOf(name), folder: false, what);
            _paths.Check(ValidatorOf(name), folder: false, what);
            return target;
        }

        /// <summary>What has been downloaded of <paramref name="name"/> so far.</summary>
        public string PartialOf(string name) => Path.Combine(WorkFolder, Key(name) + ".partial");

        /// <summary>The ETag/Last-Modified of the version the partial file holds, for If-Range on resume.</summary>
        public string ValidatorOf(string name) => Path.Combine(WorkFolder, Key(name) + ".etag");

        /// <summary>
        /// Where the archive <paramref name="name"/> is unpacked before its folder is renamed into place; short, since on
        /// Windows PowerShell 5.1 every entry's path under it must fit too.
        /// </summary>
        public string StagingOf(string name) => Path.Combine(WorkFolder, Key(name));

        /// <summary>
        /// The folder the archive <paramref name="zipName"/> unpacks into: its name without ".zip", or, when that is empty
        /// or another result's name, "&lt;name&gt; (unpacked)", "&lt;name&gt; (unpacked 2)", ...
        /// </summary>
        public string ExpandFolderOf(string zipName)
        {
            if (_expandFolders.TryGetValue(zipName, out string? known)) return known;
            string stem = zipName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? zipName.Substring(0, zipName.Length - 4) : zipName;
            if (stem.Length == 0) stem = "zip";
            string folder = stem;
            for (int n = 1; _taken.Contains(folder) || SafeFileName.Problem(folder) != null; n++)
                folder = n == 1 ? $"{stem} (unpacked)" : $"{stem} (unpacked {n})";
            _taken.Add(folder);
            string path = Path.Combine(RunFolder, folder);
            _expandFolders[zipName] = path;
            return path;
        }

        /// <summary>Removes the working folder once nothing is left in it (a failed download keeps its part for a resume).</summary>
        public void RemoveEmptyWorkFolder()
        {
            try
            {
                if (Directory.Exists(WorkFolder) && Directory.GetFileSystemEntries(WorkFolder).Length == 0) Directory.Delete(WorkFolder);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        /// <summary>
        /// A name made from the result's name as Windows compares it: 16 hex digits (64 bits of SHA-256, plenty for the
        /// results of one run), short so that it costs little of 5.1's path length.
        /// </summary>
        private static string Key(string name)
        {
            using var sha = SHA256.Create();
            byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(name.ToUpperInvariant()));
            return Signing.Hex.ToLower(hash).Substring(0, 16);
        }
    }
}
