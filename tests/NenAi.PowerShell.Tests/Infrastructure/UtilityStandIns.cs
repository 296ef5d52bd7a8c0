namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Import-Csv and Export-Csv for the hosted engine, which has no Microsoft.PowerShell.Utility, so the documented
    /// CSV recipes run here too. They keep what the recipes depend on: Import-Csv writes rows with string
    /// NoteProperties (the rows CsvRows builds), and Export-Csv creates its file before the first object arrives,
    /// stopping the pipeline with a terminating error when the folder does not exist, as the real one does.
    /// </summary>
    public static class UtilityStandIns
    {
        public const string Script = @"
function Import-Csv {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] [string] $Path)
    $text = [System.IO.File]::ReadAllText($PSCmdlet.GetUnresolvedProviderPathFromPSPath($Path))
    [NenAi.PowerShell.Tests.Infrastructure.CsvRows]::Parse($text)
}

function Export-Csv {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Path,
        [Parameter(ValueFromPipeline)] [psobject] $InputObject,
        [switch] $NoTypeInformation)
    begin {
        try { $writer = [System.IO.StreamWriter]::new($PSCmdlet.GetUnresolvedProviderPathFromPSPath($Path)) }
        catch { $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($_.Exception.InnerException, 'FileOpenFailure', 'OpenError', $Path)) }
        $names = $null
        $quote = [string][char]34
    }
    process {
        if ($null -eq $names) {
            $names = @($InputObject.PSObject.Properties | ForEach-Object { $_.Name })
            $writer.WriteLine((@($names | ForEach-Object { $quote + $_ + $quote }) -join ','))
        }
        $writer.WriteLine((@($names | ForEach-Object { $quote + ""$($InputObject.$_)"".Replace($quote, $quote + $quote) + $quote }) -join ','))
    }
    end { $writer.Dispose() }
}
";
    }
}
