using System;
using System.IO;

namespace NenAi.Core.Tests.Infrastructure
{
    /// <summary>Where the repository is, for the tests that read its text (docs, sources, the manifest).</summary>
    public static class RepoPaths
    {
        public static string Root
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "NenAi.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("NenAi.sln not found above the test folder.");
            }
        }
    }
}
