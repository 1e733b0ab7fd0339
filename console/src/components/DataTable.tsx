import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type OnChangeFn, type RowSelectionState, type SortingState } from '@tanstack/react-table';

// A table whose paging, sorting and filtering happen in the API (manual*): the browser only ever
// holds one page, so it stays fast at a million callbacks.

export function DataTable<T extends { id: number | string }>(p: {
  label: string;
  data: T[];
  columns: ColumnDef<T, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  sorting?: SortingState;
  onSortingChange?: OnChangeFn<SortingState>;
  selection?: RowSelectionState;
  onSelectionChange?: OnChangeFn<RowSelectionState>;
}) {
  const table = useReactTable({
    data: p.data,
    columns: p.columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => String(r.id),
    manualSorting: true,
    manualPagination: true,
    manualFiltering: true,
    enableMultiSort: false,
    state: { sorting: p.sorting ?? [], rowSelection: p.selection ?? {} },
    onSortingChange: p.onSortingChange,
    onRowSelectionChange: p.onSelectionChange,
    enableRowSelection: Boolean(p.onSelectionChange),
  });
  return (
    <table className="grid" aria-label={p.label}>
      <thead>
        {table.getHeaderGroups().map((g) => (
          <tr key={g.id}>
            {g.headers.map((h) => {
              const sort = h.column.getIsSorted();
              return (
                <th key={h.id} aria-sort={sort === 'asc' ? 'ascending' : sort === 'desc' ? 'descending' : undefined}>
                  {h.column.getCanSort() ? (
                    <button type="button" className="sort" onClick={h.column.getToggleSortingHandler()}>
                      {flexRender(h.column.columnDef.header, h.getContext())}
                      {sort === 'asc' ? ' ▲' : sort === 'desc' ? ' ▼' : ''}
                    </button>
                  ) : (
                    flexRender(h.column.columnDef.header, h.getContext())
                  )}
                </th>
              );
            })}
          </tr>
        ))}
      </thead>
      <tbody>
        {table.getRowModel().rows.map((r) => (
          <tr key={r.id} data-id={r.id} className={r.getIsSelected() ? 'selected' : undefined}>
            {r.getVisibleCells().map((c) => (
              <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
            ))}
          </tr>
        ))}
        {p.data.length === 0 && (
          <tr>
            <td colSpan={p.columns.length} className="empty">
              Nothing to show
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
