/** The quota left, always shown in the header; refreshed by every convertMelody answer (same cache). */
import { useQuery } from '@apollo/client/react';
import { AppQuotaDocument } from '../generated/graphql';

export function QuotaLeft() {
  const { data, error } = useQuery(AppQuotaDocument, { fetchPolicy: 'cache-and-network' });
  if (error) return <p className="quota">Quota unavailable</p>;
  if (!data) return <p className="quota">Quota…</p>;
  const { daily, monthly } = data.quota;
  return (
    <p className="quota" data-testid="quota">
      <strong>{daily.remaining}</strong> of {daily.limit} conversions left today · {monthly.remaining} of {monthly.limit} this month
    </p>
  );
}
