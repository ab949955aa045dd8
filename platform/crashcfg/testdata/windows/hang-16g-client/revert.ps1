#Requires -RunAsAdministrator
# crashbench: restores the values apply.ps1 saved in crashbench-saved.json,
# deletes the values that did not exist and removes the keys it created.
# A saved CrashDumpEnabled of 4, 5 or 6 is undocumented and is not written back:
# 7 (Automatic memory dump, the default) is written instead.
$ErrorActionPreference = 'Stop'
$saved = Join-Path $PSScriptRoot 'crashbench-saved.json'
if (-not (Test-Path -LiteralPath $saved)) {
    throw "$saved not found: apply.ps1 writes it before changing anything."
}
$state = Get-Content -LiteralPath $saved -Raw | ConvertFrom-Json
$createdKeys = @($state.CreatedKeys)
foreach ($e in @($state.Values)) {
    if ($createdKeys -contains $e.Key -or -not (Test-Path -LiteralPath $e.Key)) { continue }
    if (-not $e.Existed) {
        Remove-ItemProperty -LiteralPath $e.Key -Name $e.Name -ErrorAction SilentlyContinue
        Write-Host "$($e.Key)\$($e.Name) deleted"
        continue
    }
    $value = $e.Value
    if ($e.Name -eq 'CrashDumpEnabled' -and @(4, 5, 6) -contains [int64]$value) {
        Write-Warning "The saved CrashDumpEnabled $value is undocumented; writing 7 (Automatic memory dump) instead."
        $value = 7
    }
    if ($e.Kind -eq 'MultiString') { $value = [string[]]@($value) }
    New-ItemProperty -LiteralPath $e.Key -Name $e.Name -PropertyType $e.Kind -Value $value -Force | Out-Null
    Write-Host "$($e.Key)\$($e.Name) = $($value -join '; ')"
}
foreach ($k in ($createdKeys | Sort-Object -Property Length -Descending)) {
    if (Test-Path -LiteralPath $k) {
        Remove-Item -LiteralPath $k -Recurse -Force
        Write-Host "$k removed"
    }
}
Remove-Item -LiteralPath $saved
Write-Host 'Restored. Restart Windows for the changes to take effect.'
