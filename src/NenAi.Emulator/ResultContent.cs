using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace NenAi.Emulator
{
    /// <summary>
    /// The downloadable files of a finished run: assets.zip first, then each declared file; a failed run's are its
    /// workflow's failed files only (a log, say), and none when it declares none.
    /// </summary>
    public static class ResultContent
    {
        public sealed record File(string Name, string ContentType, byte[] Bytes);

        public static List<File> For(EmulatedRun run)
        {
            if (run.Fails) return run.Workflow.FailedFiles.ConvertAll(spec => Make(spec, run));
            var files = new List<File>();
            var declared = new List<File>();
            foreach (FileSpec spec in run.Workflow.Files) declared.Add(Make(spec, run));

            using var ms = new MemoryStream();
            using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            {
                // Stamped with the run's end, not "now": the archive is the same bytes on every download, as a stored object is.
                foreach (File f in declared) Add(zip, f.Name, f.Bytes, run.EndsAt);
                Add(zip, "result.json", Encoding.UTF8.GetBytes(run.Workflow.Result?.ToJsonString() ?? "{}"), run.EndsAt);
                foreach (FileSpec extra in run.Workflow.ZipEntries) Add(zip, extra.Name, Make(extra, run).Bytes, run.EndsAt);
            }
            files.Add(new File("assets.zip", "application/zip", ms.ToArray()));
            files.AddRange(declared);
            return files;
        }

        private static void Add(ZipArchive zip, string name, byte[] bytes, DateTimeOffset stamp)
        {
            if (string.IsNullOrEmpty(name)) return; // a zip entry needs a name; the file is still offered on its own
            ZipArchiveEntry entry = zip.CreateEntry(name, CompressionLevel.Fastest);
            entry.LastWriteTime = stamp;
            using Stream s = entry.Open();
            s.Write(bytes, 0, bytes.Length);
        }

        private static File Make(FileSpec spec, EmulatedRun run)
        {
            byte[] bytes;
            if (spec.Content != null)
            {
                bytes = Encoding.UTF8.GetBytes(spec.Content.Replace("{message_id}", run.MessageId).Replace("{workflow_id}", run.WorkflowId)
                    .Replace("{params}", run.Params.ToJsonString()).Replace("{error}", run.Error ?? string.Empty));
            }
            else
            {
                bytes = new byte[Math.Max(0, spec.SizeBytes ?? 0)];
                // Deterministic per run, so a resumed download can be checked byte for byte.
                var random = new Random(run.MessageId.GetHashCode(StringComparison.OrdinalIgnoreCase));
                random.NextBytes(bytes);
            }
            return new File(spec.Name, spec.ContentType, bytes);
        }
    }
}
