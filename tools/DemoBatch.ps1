<#
.SYNOPSIS
    The batch of ./build.ps1 -Task Demo: every row through Start-NenRun | Wait-NenRun | Get-NenRunResult.
.DESCRIPTION
    A run that fails (the demo CSV's FAIL row) is reported as the error it is, and every other run's files are
    saved: each cmdlet runs with -ErrorAction Continue, so a caller's $ErrorActionPreference = 'Stop' (build.ps1
    has it) does not turn one row's failure into the end of the batch. Returns the saved files and the errors.
#>
[CmdletBinding()]
param(
    # Rows as Import-Csv makes them (docs/examples/jobs.csv).
    [Parameter(Mandatory, ValueFromPipeline)]
    [psobject] $Row,

    [Parameter(Mandatory)]
    [string] $Destination,

    # A journal for the batch (see Start-NenRun -JournalPath).
    [string] $JournalPath
)
begin {
    $rows = [System.Collections.Generic.List[psobject]]::new()
}
process {
    $rows.Add($Row)
}
end {
    $batchErrors = [System.Collections.ArrayList]::new()
    $journal = if ($JournalPath) { @{ JournalPath = $JournalPath; KeyProperty = 'JobId' } } else { @{} }
    $files = $rows |
        Start-NenRun -WorkflowId '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21' -ExcludeProperty JobId @journal -ErrorAction Continue -ErrorVariable +batchErrors |
        Wait-NenRun -PollIntervalSec 1 -TimeoutSec 120 -ErrorAction Continue -ErrorVariable +batchErrors |
        Get-NenRunResult -Destination $Destination -ErrorAction Continue -ErrorVariable +batchErrors
    [pscustomobject]@{
        Files  = @($files)
        Errors = @($batchErrors)
    }
}
