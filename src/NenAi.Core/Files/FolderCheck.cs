using System.IO;

namespace NenAi.Core.Files
{
    /// <summary>A folder path whose place a file takes (a -Destination or a journal's folder that is a file) is said as such.</summary>
    public static class FolderCheck
    {
        /// <summary>
        /// The file standing where <paramref name="folder"/> or one of its parents must be a folder; null when none does.
        /// A folder too long for this process is <see cref="Errors.NenErrorIds.PathTooLong"/> (.NET Framework would throw
        /// PathTooLongException).
        /// </summary>
        public static string? FileInTheWay(string folder, PathLimit? paths = null)
        {
            string? path = (paths ?? PathLimit.ForThisProcess()).FullPath(folder, folder: true, $"the folder '{folder}'");
            while (!string.IsNullOrEmpty(path))
            {
                if (File.Exists(path)) return path;
                if (Directory.Exists(path)) return null;
                path = Path.GetDirectoryName(path);
            }
            return null;
        }
    }
}
