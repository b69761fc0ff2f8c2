// A table's row of column headings, as every page's tables have one.
export function HeaderRow(props: { readonly headings: readonly string[] }) {
  return (
    <tr>
      {props.headings.map((heading) => (
        <th scope="col" key={heading}>
          {heading}
        </th>
      ))}
    </tr>
  );
}
